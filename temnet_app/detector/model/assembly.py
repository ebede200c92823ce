"""Assembly of the Faster R-CNN + FPN detector from its parts.

The trainable parts live in a :class:`DetectorParts`: the feature extractor (backbone + FPN,
a Keras model), the RPN head and the box head. The parameter-free layers (proposals, RoIAlign,
detections) are made from the config on demand. A training graph (detector.losses / targets /
train) and the inference model are built from the SAME parts object, so weights trained in one
are the weights of the other; weights files are saved from and loaded into
:func:`build_inference_model` (see :mod:`temnet_app.detector.model.weights`).

Inference model: ``images (B, H, W, C)`` of 0-255 grey values, H and W any multiples of 32 ->
dict ``boxes (B, D, 4)`` xyxy input pixels, ``scores (B, D)``, ``class_ids (B, D)`` int32
(1..K; 0 = padding), ``valid (B,)`` (real detections come first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import keras

from temnet_app.detector.model.config import DetectorConfig
from temnet_app.detector.model.fpn import build_feature_extractor
from temnet_app.detector.model.roi_heads import BoxHead, box_head, detection_layer, roi_align
from temnet_app.detector.model.rpn import RPNHead, proposal_layer, rpn_head

__all__ = ["DetectorParts", "build_parts", "level_features", "build_inference_model",
           "OUTPUT_KEYS"]

OUTPUT_KEYS = ("boxes", "scores", "class_ids", "valid")


@dataclass
class DetectorParts:
    """The trainable building blocks shared by the training and inference graphs.

    ``features(images)`` -> list of maps, one per ``config.pyramid_levels`` (use
    :func:`level_features` to pick the RPN's or the head's); ``rpn_head(maps)`` ->
    ``(logits (B, N), deltas (B, N, 4))`` in :mod:`anchors` order; ``box_head(pooled)`` ->
    ``(class_logits (B, R, K + 1), deltas (B, R, K + 1, 4))``.
    """

    config: DetectorConfig
    features: keras.Model
    rpn_head: RPNHead
    box_head: BoxHead


def build_parts(config: DetectorConfig) -> DetectorParts:
    """Fresh (randomly initialised) parts for ``config``."""
    return DetectorParts(config, build_feature_extractor(config), rpn_head(config),
                         box_head(config))


def level_features(config: DetectorConfig, maps, which: str) -> list:
    """The maps of ``config.rpn_levels`` (``which='rpn'``) or ``head_levels`` (``'head'``)."""
    by_level = dict(zip(config.pyramid_levels, maps))
    levels = {"rpn": config.rpn_levels, "head": config.head_levels}[which]
    return [by_level[k] for k in levels]


def build_inference_model(config: DetectorConfig,
                          parts: Optional[DetectorParts] = None) -> keras.Model:
    """The end-to-end inference model (see module docstring) built on ``parts``."""
    parts = parts or build_parts(config)
    images = keras.Input((None, None, config.input_channels), name="images")
    maps = parts.features(images)
    logits, deltas = parts.rpn_head(level_features(config, maps, "rpn"))
    rois, _, valid_rois = proposal_layer(config)([images, logits, deltas])
    pooled = roi_align(config)([rois, *level_features(config, maps, "head")])
    class_logits, box_deltas = parts.box_head(pooled)
    boxes, scores, class_ids, valid = detection_layer(config)(
        [images, rois, valid_rois, class_logits, box_deltas])
    outputs = dict(zip(OUTPUT_KEYS, (boxes, scores, class_ids, valid)))
    return keras.Model(images, outputs, name="temnet_detector")
