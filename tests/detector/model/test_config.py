"""DetectorConfig: paper defaults, presets, validation, JSON round trip, derived levels."""

import dataclasses
import json

import pytest

from temnet_app.core.errors import ModelError
from temnet_app.detector import DetectorConfig
from temnet_app.detector.model import config as C


def test_defaults_are_the_paper_values():
    cfg = C.paper()
    assert cfg.backbone == "temnet-gn"
    assert cfg.class_names == ("eccentric", "mature", "immature")
    assert (cfg.net_input, cfg.input_channels) == (512, 3)
    assert (cfg.pixel_mean, cfg.pixel_std) == (131.51, 47.11)
    assert cfg.anchor_scales == (32.0, 64.0, 128.0, 256.0, 512.0)
    assert cfg.anchor_ratios == (0.5, 0.75, 1.0, 1.25, 1.5)
    assert cfg.anchor_stride == 2
    assert (cfg.rpn_nms_iou, cfg.pre_nms_top_k, cfg.post_nms_rois) == (0.7, 6000, 100)
    assert (cfg.train_rois, cfg.roi_positive_fraction) == (50, 0.5)
    assert cfg.rpn_box_std == cfg.head_box_std == (0.1, 0.1, 0.2, 0.2)
    assert (cfg.detection_nms_iou, cfg.min_confidence, cfg.max_gt_boxes) == (0.3, 0.05, 20)
    assert (cfg.fpn_channels, cfg.fc_units) == (256, 64)
    assert (cfg.window, cfg.train_magnification, cfg.tiling_mode) == (1024, 30000.0, "tiled")
    assert cfg.network_scale == 0.5


def test_levels_of_each_preset_and_backbone():
    paper = C.paper()
    assert paper.rpn_levels == (2, 3, 4, 5, 6)       # one level per anchor scale, strides 4..64
    assert paper.head_levels == (2, 3, 4)            # TEMNet's own P2..P4
    assert paper.pyramid_levels == (2, 3, 4, 5, 6)   # P5, P6: subsamples for the RPN only
    compact = C.compact()
    assert compact.rpn_levels == (3, 4, 5)
    assert compact.head_levels == (3, 4)
    assert compact.pyramid_levels == (3, 4, 5)
    resnet = C.paper(backbone="resnet101")
    assert resnet.head_levels == (2, 3, 4, 5)
    assert resnet.fc_units == 1024
    assert C.paper(head_units=32).fc_units == 32


@pytest.mark.parametrize("cfg", [C.paper(), C.compact(),
                                 C.paper(backbone="resnet101v2", head_units=128,
                                         anchor_ratios=(1.0,), class_names=("a", "b"),
                                         tiling_mode="whole", window=853, window_overlap=0)])
def test_json_round_trip(cfg):
    text = cfg.to_json()
    again = DetectorConfig.from_json(text)
    assert again == cfg
    assert json.loads(again.to_json()) == json.loads(text)


def test_every_field_is_overridable_and_kept():
    cfg = C.compact(pre_nms_top_k=123, batch_size=2, gaussian_noise=0.0)
    assert (cfg.pre_nms_top_k, cfg.batch_size, cfg.gaussian_noise) == (123, 2, 0.0)
    assert cfg.preset == "compact" and cfg.input_channels == 1


def test_missing_json_fields_take_defaults():
    assert DetectorConfig.from_json('{"backbone": "temnet-bn"}') == DetectorConfig(
        backbone="temnet-bn")


@pytest.mark.parametrize("changes, words", [
    ({"backbone": "vgg"}, "unknown backbone"),
    ({"net_input": 500}, "multiple of 32"),
    ({"input_channels": 2}, "input_channels"),
    ({"window_overlap": 1024}, "window_overlap"),
    ({"anchor_scales": (64, 32)}, "increase"),
    ({"anchor_ratios": (0.0,)}, "ratios"),
    ({"rpn_nms_iou": 1.5}, "rpn_nms_iou"),
    ({"rpn_box_std": (0.1, 0.1, 0.2)}, "rpn_box_std"),
    ({"tiling_mode": "sliding"}, "tiling_mode"),
    ({"class_names": ("mature", "mature")}, "unique"),
    ({"head_min_level": 5}, "head_min_level"),
    ({"batch_size": 0}, "batch_size"),
    ({"post_nms_rois": 2.5}, "integer"),
    ({"backbone_weights": "x.h5"}, "ImageNet"),
])
def test_invalid_values_raise_model_error(changes, words):
    with pytest.raises(ModelError, match=words):
        C.paper(**changes)


def test_bad_json_and_unknown_keys():
    with pytest.raises(ModelError, match="not valid JSON"):
        DetectorConfig.from_json("{backbone: temnet}")
    with pytest.raises(ModelError, match="unknown detector setting"):
        DetectorConfig.from_json('{"fpn_size": 3}')
    with pytest.raises(ModelError, match="format"):
        DetectorConfig.from_json('{"config_format": 99}')
    with pytest.raises(ModelError, match="unknown detector setting"):
        C.paper().replace(nonsense=1)
    with pytest.raises(ModelError, match="preset"):
        C.preset("fast")


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        C.paper().net_input = 256


def test_target_helper_reads_the_config():
    targets = pytest.importorskip("temnet_app.detector.training.targets")
    params = targets.target_params(C.paper(train_rois=20, rpn_positive_iou=0.6))
    assert params.train_rois == 20 and params.rpn_positive_iou == 0.6
    assert params.head_box_std == (0.1, 0.1, 0.2, 0.2)
