"""Training crops of a labelled micrograph: geometry and the 75% rule (numpy only, no TensorFlow).

A micrograph is cut into overlapping square crops whose side keeps the physical size of the
paper's training crops (1,024 px at 30,000x, eq. 6: 853 px at 25,000x, 683 px at 20,000x). The
research code stepped its crops 500 px apart at 30,000x; the step scales with the crop side.
Crops tile the micrograph row by row, the last crop of each row / column flush with the right /
bottom edge (:func:`temnet_app.detector.tiling.plan_windows`, the same planner inference uses);
along a side shorter than the crop there is one crop, padded later.

The 75% rule: a labelled box belongs to a crop when at least ``min_inside`` (0.75) of its area
lies inside the crop. Areas are measured on the box clipped to the micrograph (the part of an
annotation that spills past the image edge is not image). A kept box is clipped to the crop and
shifted to crop coordinates.

Boxes with less than 75% inside are NOT labels of that crop, and their pixels are left as they
are: the cut particle stays in the crop as unlabelled content, so the detector's targets treat
it as background. The network therefore learns not to fire on particles cut by more than a
quarter, the behaviour the paper trained. Nothing is lost at inference: with a 1,024 crop and
a 500 step every particle up to 524 px (virions are 180-350 px) lies wholly inside some crop.

At most ``max_gt`` labels per crop (the network's ground-truth slots, 20 in the paper). A
crowded crop keeps the boxes with the largest inside fraction (ties: larger clipped area first,
then annotation order); the rest become unlabelled content like cut particles and are counted
in :attr:`CropPlan.dropped` so :func:`temnet_app.detector.data.pipeline.describe` can report them.

Coordinates are xyxy float micrograph pixels (continuous: pixel ``i`` spans ``[i, i + 1)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from temnet_app.core.box_math import areas, as_boxes, clip_boxes
from temnet_app.detector.tiling import (TRAIN_MAGNIFICATION, TRAIN_WINDOW, Window, plan_windows,
                                        window_size)

__all__ = ["TRAIN_STEP", "MIN_INSIDE", "CropPlan", "crop_step", "plan_crops",
           "inside_fractions", "labels_in_crop", "plan_micrograph"]

# The research code's crop step at the training magnification (1,024 crops, 500 px apart).
TRAIN_STEP = 500
MIN_INSIDE = 0.75


@dataclass(frozen=True, eq=False)
class CropPlan:
    """One crop: its ``window`` (micrograph pixels), the labels it keeps in crop coordinates
    (``boxes`` (K, 4) float64, clipped to the crop; ``class_ids`` (K,) int32), the indices of
    those boxes in the micrograph's box list (``source``), and ``dropped``: boxes that passed
    the 75% rule but did not fit in ``max_gt``."""

    window: Window
    boxes: np.ndarray
    class_ids: np.ndarray
    source: np.ndarray
    dropped: int = 0

    @property
    def is_background(self) -> bool:
        """True when the crop keeps no label."""
        return len(self.class_ids) == 0


def crop_step(side: int, step: int = TRAIN_STEP, train_window: int = TRAIN_WINDOW) -> int:
    """The step between crops of side ``side``: ``step`` scaled by ``side / train_window``,
    rounded, at least 1 and at most ``side`` (500 px for 1,024 crops; 333 px for 683)."""
    if side < 1 or step < 1 or train_window < 1:
        raise ValueError(f"invalid crop side {side!r}, step {step!r} or window {train_window!r}")
    return int(min(side, max(1, int(np.floor(step * side / train_window + 0.5)))))


def plan_crops(width: int, height: int, magnification: float, *,
               train_window: int = TRAIN_WINDOW, step: int = TRAIN_STEP,
               train_magnification: float = TRAIN_MAGNIFICATION) -> list[Window]:
    """Crop windows covering a ``width x height`` micrograph taken at ``magnification``.

    Side ``window_size(magnification)`` (eq. 6), step :func:`crop_step`; row-major order.
    A 4,000 x 2,620 micrograph at 30,000x gives x origins 0, 500, ..., 2,500, 2,976 and y
    origins 0, 500, 1,000, 1,500, 1,596: 35 crops (the research code's loop produced the same
    crops plus duplicates of the flush ones).
    """
    side = window_size(magnification, train_window, train_magnification)
    step_px = crop_step(side, step, train_window)
    return plan_windows(width, height, side, side - step_px)


def inside_fractions(boxes, window: Window) -> np.ndarray:
    """Fraction of each box's area inside ``window`` (``[x0, x1) x [y0, y1)``), ``(N,)``.

    Boxes without area get 0.
    """
    b = as_boxes(boxes)
    inter = clip_boxes(b - [window.x0, window.y0, window.x0, window.y0],
                       window.width, window.height)
    total = areas(b)
    out = np.zeros(len(b), dtype=np.float64)
    np.divide(areas(inter), total, out=out, where=total > 0)
    return out


def labels_in_crop(boxes, class_ids, window: Window, *, min_inside: float = MIN_INSIDE,
                   max_gt: int = 20) -> CropPlan:
    """The labels of one crop under the 75% rule (see the module docstring).

    ``boxes`` (N, 4) micrograph pixels, already clipped to the micrograph; ``class_ids`` (N,).
    """
    if not 0.0 < min_inside <= 1.0:
        raise ValueError(f"min_inside must be in (0, 1], got {min_inside!r}")
    if max_gt < 1:
        raise ValueError(f"max_gt must be at least 1, got {max_gt!r}")
    b = as_boxes(boxes)
    ids = np.asarray(class_ids, dtype=np.int64).reshape(-1)
    if len(ids) != len(b):
        raise ValueError("boxes and class_ids must have the same length")
    frac = inside_fractions(b, window)
    # A tiny tolerance so a box whose inside share is exactly 75% in exact arithmetic is not
    # lost to float rounding of the clipped area.
    keep = np.flatnonzero(frac >= min_inside - 1e-9)
    shifted = clip_boxes(b[keep] - [window.x0, window.y0, window.x0, window.y0],
                         window.width, window.height)
    dropped = 0
    if len(keep) > max_gt:
        # Largest inside fraction first, then larger clipped area, then annotation order.
        order = np.lexsort((keep, -areas(shifted), -frac[keep]))[:max_gt]
        order.sort()  # back to annotation order among the kept
        dropped = len(keep) - max_gt
        keep, shifted = keep[order], shifted[order]
    return CropPlan(window, shifted, ids[keep].astype(np.int32), keep.astype(np.int64), dropped)


def plan_micrograph(boxes, class_ids, width: int, height: int, magnification: float, *,
                    train_window: int = TRAIN_WINDOW, step: int = TRAIN_STEP,
                    train_magnification: float = TRAIN_MAGNIFICATION,
                    min_inside: float = MIN_INSIDE, max_gt: int = 20) -> list[CropPlan]:
    """Every crop of a micrograph with its labels (boxes are clipped to the image first;
    boxes wholly outside the image are ignored)."""
    b = clip_boxes(as_boxes(boxes), width, height)
    windows = plan_crops(width, height, magnification, train_window=train_window, step=step,
                         train_magnification=train_magnification)
    return [labels_in_crop(b, class_ids, w, min_inside=min_inside, max_gt=max_gt)
            for w in windows]
