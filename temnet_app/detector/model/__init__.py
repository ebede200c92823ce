"""The network: config, anchors, box ops, TEMNet block, backbones, FPN, RPN, RoI heads,
assembly and weights I/O. The face exports the configuration only (no Keras import); the
builders are imported from their modules inside :mod:`temnet_app.detector`."""

from temnet_app.detector.model.config import TILING_MODES, DetectorConfig, preset

__all__ = ["TILING_MODES", "DetectorConfig", "preset"]
