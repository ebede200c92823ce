"""Detector configuration: every setting of the Faster R-CNN + FPN model in one dataclass.

Defaults are the TEMNet paper's and its research code's (Rey et al. 2021, sections 2.3-2.4 and
3.1). Two presets: :func:`paper` (faithful: FPN 256, RPN 512, three grey channels, five anchor
scales and ratios, 1,024-px tiles) and :func:`compact` (what the application ships: the same
TEMNet backbone with a thin FPN/RPN, one input channel, three anchor scales and ratios, the whole
micrograph in one pass). Every value can be overridden (``dataclasses.replace`` or keyword
arguments) and is validated; an invalid value raises :class:`ModelError` (a config usually comes
from a model card).

Pyramid levels are numbered by stride: level ``k`` has stride ``2**k`` in network-input pixels.
TEMNet gives P2-P4 (pool outputs C2-C4, strides 4-16); the ResNets give P2-P5. Anchor scale ``i``
lives on RPN level ``rpn_min_level + i``; levels above the backbone's coarsest are stride-2
subsamples of the level below (the research code's "P6"), used by the RPN only.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any, Optional

from temnet_app.core.boxes import DEFAULT_CLASS_NAMES, ClassScheme
from temnet_app.core.errors import ModelError

CONFIG_FORMAT = 1

BACKBONES = ("temnet-gn", "temnet-bn", "resnet101", "resnet101v2", "inception_resnet_v2")
# Native pyramid levels (strides 4..16 for TEMNet, 4..32 for the ImageNet networks).
_NATIVE_MAX_LEVEL = {"temnet-gn": 4, "temnet-bn": 4, "resnet101": 5, "resnet101v2": 5,
                     "inception_resnet_v2": 5}
TILING_MODES = ("tiled", "whole")


def _tuple(values, kind=float) -> tuple:
    return tuple(kind(v) for v in values)


# Upper bounds: far above any sensible model, low enough that a damaged or hostile model card
# cannot ask for a 3,200,000-px input or 10^9-px windows (which would find nothing, slowly).
_UPPER_BOUNDS = {"net_input": 4096, "window": 16384, "batch_size": 256, "fpn_channels": 2048,
                 "rpn_channels": 2048, "anchor_stride": 64, "pre_nms_top_k": 100_000,
                 "post_nms_rois": 20_000, "train_post_nms_rois": 20_000,
                 "rpn_train_anchors": 100_000, "train_rois": 20_000, "max_gt_boxes": 10_000,
                 "roi_pool_size": 64, "roi_samples": 8, "max_detections": 10_000,
                 "norm_groups": 64}


@dataclass(frozen=True)
class DetectorConfig:
    """All detector settings; lengths are network-input pixels unless named otherwise."""

    preset: str = "custom"
    backbone: str = "temnet-gn"
    # Local ImageNet weights file for the keras.applications backbones (never downloaded).
    backbone_weights: Optional[str] = None
    class_names: tuple[str, ...] = DEFAULT_CLASS_NAMES
    # "#rrggbb" per class for plots, reports and the overlay (empty: the defaults)
    class_colours: tuple[str, ...] = ()
    # Network input: a 1,024-px crop (at 30,000x) resized to 512; grey repeated on each channel.
    net_input: int = 512
    input_channels: int = 3
    pixel_mean: float = 131.51
    pixel_std: float = 47.11
    norm_groups: int = 8
    # GroupNorm statistics over net_input-sided windows (the training crop) rather than the
    # whole input: the same on crops, robust on whole micrographs (temnet_block docstring).
    local_norm: bool = True
    gaussian_noise: float = 0.1
    fpn_channels: int = 256
    rpn_channels: int = 512
    # Units of the two fully connected head layers; None = 64 for TEMNet, 1,024 for ResNets.
    head_units: Optional[int] = None
    # Anchors: one scale per RPN level starting at rpn_min_level; ratios are width / height.
    anchor_scales: tuple[float, ...] = (32.0, 64.0, 128.0, 256.0, 512.0)
    anchor_ratios: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5)
    # Anchors (and RPN outputs) on every anchor_stride-th feature cell of each level.
    anchor_stride: int = 2
    rpn_min_level: int = 2
    # Finest level the RoIAlign reads (eq. 5 levels below it are clamped up to it).
    head_min_level: int = 2
    rpn_nms_iou: float = 0.7
    pre_nms_top_k: int = 6000
    post_nms_rois: int = 100
    train_post_nms_rois: int = 100
    # Training samples (read by detector.targets).
    rpn_positive_iou: float = 0.7
    rpn_negative_iou: float = 0.3
    rpn_train_anchors: int = 256
    rpn_positive_fraction: float = 0.5
    rpn_box_std: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.2)
    train_rois: int = 50
    roi_positive_fraction: float = 0.5
    roi_positive_iou: float = 0.5
    roi_negative_iou_low: float = 0.0
    head_box_std: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.2)
    max_gt_boxes: int = 20
    # RoIAlign: pool x pool bins, roi_samples x roi_samples bilinear samples averaged per bin.
    roi_pool_size: int = 7
    roi_samples: int = 2
    # Eq. 5: k = floor(canonical_level + log2(sqrt(w h) / canonical_size)), w, h in micrograph
    # pixels at the training magnification (see roi_heads.roi_levels).
    roi_canonical_size: float = 2620.0
    roi_canonical_level: int = 4
    detection_nms_iou: float = 0.3
    # Detections kept per net_input x net_input of input area (scaled up for larger inputs).
    max_detections: int = 100
    min_confidence: float = 0.05
    # Whole micrographs: window side at the training magnification (eq. 6), overlap likewise.
    window: int = 1024
    window_overlap: int = 524
    train_magnification: float = 30000.0
    tiling_mode: str = "tiled"
    # Detect on the micrograph and three mirrored copies and average the scores
    # (detector.flip_average): four passes, fewer spurious boxes.
    flip_average: bool = False
    batch_size: int = 4

    def __post_init__(self) -> None:
        try:
            self._normalise()
        except (TypeError, ValueError) as error:
            raise ModelError(f"invalid detector configuration: {error}") from None
        self._validate()

    # -- normalisation and validation ---------------------------------------------------
    def _normalise(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        if isinstance(self.class_names, str):
            raise ValueError("class_names must be a list of names, not one string")
        set_("class_names", tuple(str(v).strip() for v in self.class_names))
        if isinstance(self.class_colours, str):
            raise ValueError("class_colours must be a list of colours, not one string")
        set_("class_colours", ClassScheme(self.class_names, tuple(self.class_colours)).colours)
        for name in ("anchor_scales", "anchor_ratios", "rpn_box_std", "head_box_std"):
            set_(name, _tuple(getattr(self, name)))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int):
                if isinstance(value, bool) or float(value) != int(value):
                    raise ValueError(f"{f.name} must be an integer, got {value!r}")
                set_(f.name, int(value))
            elif f.type in ("float", float):
                set_(f.name, float(value))
        if self.head_units is not None:
            set_("head_units", int(self.head_units))
        if self.backbone_weights is not None:
            set_("backbone_weights", str(self.backbone_weights))
        set_("preset", str(self.preset))
        set_("backbone", str(self.backbone).strip().lower())
        set_("tiling_mode", str(self.tiling_mode).strip().lower())
        for name in ("local_norm", "flip_average"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")

    def _validate(self) -> None:
        def fail(message: str) -> None:
            raise ModelError(f"invalid detector configuration: {message}")

        if self.backbone not in BACKBONES:
            fail(f"unknown backbone {self.backbone!r} (choose one of {', '.join(BACKBONES)})")
        if self.backbone_weights and self.backbone.startswith("temnet"):
            fail("backbone_weights (ImageNet) apply only to the ResNet / Inception backbones")
        if self.net_input < 32 or self.net_input % 32:
            fail(f"net_input must be a positive multiple of 32, got {self.net_input}")
        if self.input_channels not in (1, 3):
            fail(f"input_channels must be 1 or 3, got {self.input_channels}")
        if self.backbone_weights and self.input_channels != 3:
            fail("ImageNet backbone weights need input_channels = 3")
        if not self.pixel_std > 0 or not math.isfinite(self.pixel_mean):
            fail("pixel_std must be positive and pixel_mean finite")
        for name in ("fpn_channels", "rpn_channels", "norm_groups", "anchor_stride",
                     "pre_nms_top_k", "post_nms_rois", "train_post_nms_rois",
                     "rpn_train_anchors", "train_rois", "max_gt_boxes", "roi_pool_size",
                     "roi_samples", "max_detections", "window", "batch_size"):
            if getattr(self, name) < 1:
                fail(f"{name} must be at least 1, got {getattr(self, name)}")
        for name, most in _UPPER_BOUNDS.items():
            if getattr(self, name) > most:
                fail(f"{name} must be at most {most:,}, got {getattr(self, name):,}")
        if self.backbone == "temnet-gn" and (8 % self.norm_groups or 64 % self.norm_groups):
            fail(f"norm_groups must divide the TEMNet filter counts (8..64): {self.norm_groups}")
        if self.head_units is not None and self.head_units < 1:
            fail(f"head_units must be at least 1, got {self.head_units}")
        if not 0.0 <= self.gaussian_noise < 10.0:
            fail(f"gaussian_noise must be in [0, 10), got {self.gaussian_noise}")
        if not self.anchor_scales or any(s <= 0 for s in self.anchor_scales):
            fail("anchor_scales must be positive numbers, one per RPN level")
        if list(self.anchor_scales) != sorted(self.anchor_scales):
            fail("anchor_scales must increase (one per level, finest level first)")
        if not self.anchor_ratios or any(r <= 0 for r in self.anchor_ratios):
            fail("anchor_ratios must be positive numbers (width / height)")
        if not 2 <= self.rpn_min_level <= 6:
            fail(f"rpn_min_level must be in 2..6, got {self.rpn_min_level}")
        if not 2 <= self.head_min_level <= _NATIVE_MAX_LEVEL.get(self.backbone, 4):
            fail(f"head_min_level must be in 2..{_NATIVE_MAX_LEVEL[self.backbone]} for "
                 f"{self.backbone}, got {self.head_min_level}")
        if self.rpn_min_level + len(self.anchor_scales) - 1 > 8:
            fail("too many anchor scales: the coarsest RPN level would exceed stride 256")
        for name in ("rpn_nms_iou", "detection_nms_iou", "min_confidence", "rpn_positive_iou",
                     "rpn_negative_iou", "roi_positive_iou", "roi_negative_iou_low"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                fail(f"{name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("rpn_positive_fraction", "roi_positive_fraction"):
            if not 0.0 < getattr(self, name) <= 1.0:
                fail(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if self.rpn_negative_iou > self.rpn_positive_iou:
            fail("rpn_negative_iou must not exceed rpn_positive_iou")
        if self.roi_negative_iou_low >= self.roi_positive_iou:
            fail("roi_negative_iou_low must be below roi_positive_iou")
        for name in ("rpn_box_std", "head_box_std"):
            std = getattr(self, name)
            if len(std) != 4 or min(std) <= 0:
                fail(f"{name} must be four positive numbers, got {std}")
        if not self.roi_canonical_size > 0 or not 2 <= self.roi_canonical_level <= 8:
            fail("roi_canonical_size must be positive and roi_canonical_level in 2..8")
        if not 0 <= self.window_overlap < self.window:
            fail(f"window_overlap must be in [0, window): {self.window_overlap}, {self.window}")
        if not 1000.0 <= self.train_magnification <= 1_000_000.0:
            fail(f"train_magnification must be in 1,000-1,000,000, got "
                 f"{self.train_magnification}")
        if self.tiling_mode not in TILING_MODES:
            fail(f"tiling_mode must be 'tiled' or 'whole', got {self.tiling_mode!r}")

    # -- derived values -----------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Foreground classes (the heads add background as class 0)."""
        return len(self.class_names)

    @property
    def class_scheme(self) -> ClassScheme:
        return ClassScheme(self.class_names, self.class_colours)

    @property
    def is_temnet(self) -> bool:
        return self.backbone.startswith("temnet")

    @property
    def fc_units(self) -> int:
        """Units of each fully connected head layer (64 TEMNet, 1,024 ResNets by default)."""
        if self.head_units is not None:
            return self.head_units
        return 64 if self.is_temnet else 1024

    @property
    def head_levels(self) -> tuple[int, ...]:
        """Levels the RoIAlign reads: head_min_level..4 (TEMNet) or ..5 (ImageNet nets)."""
        return tuple(range(self.head_min_level, _NATIVE_MAX_LEVEL[self.backbone] + 1))

    @property
    def rpn_levels(self) -> tuple[int, ...]:
        """One RPN level per anchor scale, from ``rpn_min_level`` up."""
        return tuple(range(self.rpn_min_level, self.rpn_min_level + len(self.anchor_scales)))

    @property
    def pyramid_levels(self) -> tuple[int, ...]:
        """Every level the feature extractor outputs, in order (finest used to coarsest)."""
        return tuple(range(min(self.head_min_level, self.rpn_min_level),
                           max(self.head_levels[-1], self.rpn_levels[-1]) + 1))

    @property
    def anchors_per_location(self) -> int:
        return len(self.anchor_ratios)

    @property
    def network_scale(self) -> float:
        """Network pixels per micrograph pixel at the training magnification (512/1024)."""
        return self.net_input / self.window

    def replace(self, **changes: Any) -> "DetectorConfig":
        """A validated copy with ``changes`` applied."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ModelError(f"unknown detector setting(s): {', '.join(sorted(unknown))}")
        if "class_names" in changes and "class_colours" not in changes:
            changes["class_colours"] = ()  # the new classes' default colours
        return dataclasses.replace(self, **changes)

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out: dict[str, Any] = {"config_format": CONFIG_FORMAT}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "DetectorConfig":
        """Build from :meth:`to_dict` output; missing settings take their defaults."""
        if not isinstance(data, dict):
            raise ModelError("detector configuration must be a JSON object")
        data = dict(data)
        version = data.pop("config_format", CONFIG_FORMAT)
        if version != CONFIG_FORMAT:
            raise ModelError(f"detector configuration format {version!r} is not supported "
                             f"(this version reads format {CONFIG_FORMAT})")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ModelError(f"unknown detector setting(s) in configuration: {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "DetectorConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ModelError(f"detector configuration is not valid JSON: {error}") from None
        return cls.from_dict(data)

    def summary(self) -> dict:
        """A short JSON-able description for settings records and reports."""
        return {"preset": self.preset, "backbone": self.backbone, "net_input": self.net_input,
                "input_channels": self.input_channels, "fpn_channels": self.fpn_channels,
                "rpn_channels": self.rpn_channels, "head_units": self.fc_units,
                "anchor_scales": list(self.anchor_scales),
                "anchor_ratios": list(self.anchor_ratios), "anchor_stride": self.anchor_stride,
                "rpn_levels": list(self.rpn_levels), "head_levels": list(self.head_levels),
                "tiling_mode": self.tiling_mode, "local_norm": self.local_norm,
                "flip_average": self.flip_average,
                "classes": list(self.class_names)}


def paper(**changes: Any) -> DetectorConfig:
    """The paper / research-code configuration (TEMNet-GN, FPN 256, 1,024-px tiles)."""
    return DetectorConfig(preset="paper").replace(**changes)


def compact(**changes: Any) -> DetectorConfig:
    """The shipped CPU configuration: TEMNet-GN backbone unchanged, lighter everything else.

    * one grey input channel (the research code repeats grey three times: same information);
    * FPN and RPN 64 channels (the backbone's own widest map has 64);
    * anchor scales 64, 128, 256 px on P3-P5 (virions are ~90-175 network px: 180-350 px at
      30,000x halved), ratios 0.8, 1, 1.25 (virions are near-square), anchors on every cell;
    * RoIAlign on P3 and up (stride 8: a 132-px virion spans 16 cells for 7 x 7 bins of 2 x 2
      samples), which skips the costly stride-4 P2 map that eq. 5 would otherwise pick;
    * the whole micrograph in one pass (no tile seams, no duplicated overlap work).
    """
    base = DetectorConfig(preset="compact", input_channels=1, fpn_channels=64, rpn_channels=64,
                          anchor_scales=(64.0, 128.0, 256.0), anchor_ratios=(0.8, 1.0, 1.25),
                          anchor_stride=1, rpn_min_level=3, head_min_level=3,
                          pre_nms_top_k=2000,
                          window_overlap=384, tiling_mode="whole")
    return base.replace(**changes)


PRESETS = {"paper": paper, "compact": compact}


def preset(name: str, **changes: Any) -> DetectorConfig:
    """The preset called ``name`` ('paper' or 'compact') with ``changes`` applied."""
    try:
        return PRESETS[str(name).strip().lower()](**changes)
    except KeyError:
        raise ModelError(f"unknown detector preset {name!r} (choose paper or compact)") from None
