"""Box arithmetic on numpy arrays: areas, IoU, clipping, NMS, and the eq. 4 box encoding.

Every array of boxes is ``(N, 4)`` float ``xyxy`` in continuous pixel coordinates: a box covers
``[x1, x2) x [y1, y2)``, so its width is ``x2 - x1`` and its height ``y2 - y1`` (no "+1"), and
its centre is ``((x1 + x2) / 2, (y1 + y2) / 2)``. This module is the numpy reference; the
TensorFlow twins in :mod:`temnet_app.detector.model.box_ops` are tested against it.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

# Largest log size ratio decode accepts (the usual Faster R-CNN guard, log(1000 / 16)): keeps
# exp() finite when a regressor outputs a wild value early in training.
MAX_LOG_RATIO = math.log(1000.0 / 16.0)


def as_boxes(boxes) -> np.ndarray:
    """``boxes`` as a float64 ``(N, 4)`` array (an empty input gives ``(0, 4)``)."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {arr.shape}")
    return arr


def areas(boxes) -> np.ndarray:
    """Area of each box, ``(N,)``; inverted or degenerate boxes have area 0."""
    b = as_boxes(boxes)
    w = np.clip(b[:, 2] - b[:, 0], 0.0, None)
    h = np.clip(b[:, 3] - b[:, 1], 0.0, None)
    return w * h


def iou_matrix(a, b) -> np.ndarray:
    """Intersection over union of every box of ``a`` with every box of ``b``, ``(N, M)``.

    A pair whose union is zero (two zero-area boxes) has IoU 0, never NaN.
    """
    a, b = as_boxes(a), as_boxes(b)
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0.0, None) * np.clip(iy2 - iy1, 0.0, None)
    union = areas(a)[:, None] + areas(b)[None, :] - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def clip_boxes(boxes, width: float, height: float) -> np.ndarray:
    """Boxes clipped to the image ``[0, width] x [0, height]`` (a new array)."""
    b = as_boxes(boxes).copy()
    b[:, 0::2] = np.clip(b[:, 0::2], 0.0, float(width))
    b[:, 1::2] = np.clip(b[:, 1::2], 0.0, float(height))
    return b


def score_order(boxes, scores) -> np.ndarray:
    """Indices by descending score; on a score tie the larger box first, then the lower index."""
    b = as_boxes(boxes)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(s) != len(b):
        raise ValueError(f"{len(b)} boxes but {len(s)} scores")
    # lexsort sorts by the last key first and is stable, so equal (score, area) keep index order.
    return np.lexsort((-areas(b), -s)).astype(np.int64)


def nms(boxes, scores, iou_threshold: float, max_output: Optional[int] = None) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best first.

    Boxes are visited by descending score; a box is dropped when its IoU with an already kept
    box EXCEEDS ``iou_threshold`` (IoU equal to the threshold is kept). On a score tie the
    larger box is visited first and so kept (the TEMNet merge rule: a larger box usually holds
    the whole virion). At most ``max_output`` indices are returned when it is given.
    """
    b = as_boxes(boxes)
    order = score_order(b, scores)
    limit = len(b) if max_output is None else max(0, int(max_output))
    keep: list[int] = []
    # One IoU row per kept box against the boxes still in play: memory grows with N, not N^2
    # (a tiled pass over a large micrograph can merge a few hundred thousand boxes).
    while order.size and len(keep) < limit:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[iou_matrix(b[i:i + 1], b[rest])[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes, scores, class_ids, iou_threshold: float) -> np.ndarray:
    """NMS run separately per class; kept indices of all classes, in :func:`score_order`."""
    b = as_boxes(boxes)
    ids = np.asarray(class_ids).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if not len(ids) == len(s) == len(b):
        raise ValueError(f"{len(b)} boxes, {len(s)} scores and {len(ids)} class ids")
    kept = []
    for c in np.unique(ids):
        members = np.flatnonzero(ids == c)
        kept.append(members[nms(b[members], s[members], iou_threshold)])
    if not kept:
        return np.zeros(0, dtype=np.int64)
    kept_idx = np.concatenate(kept)
    return kept_idx[score_order(b[kept_idx], s[kept_idx])]


def _centre_size(boxes: np.ndarray) -> tuple[np.ndarray, ...]:
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def _std(std: Sequence[float]) -> np.ndarray:
    s = np.asarray(std, dtype=np.float64).reshape(-1)
    if s.shape != (4,) or not np.all(s > 0):
        raise ValueError(f"std must be 4 positive numbers, got {std!r}")
    return s


def encode_boxes(boxes, anchors, std: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> np.ndarray:
    """Regression targets of ``boxes`` relative to ``anchors`` (paper eq. 4), ``(N, 4)``.

    ``t_x = (x - x_a) / w_a``, ``t_y = (y - y_a) / h_a``, ``t_w = log(w / w_a)``,
    ``t_h = log(h / h_a)`` with centres ``x, y`` and sizes ``w = x2 - x1``, ``h = y2 - y1``;
    each column is then divided by ``std``. Boxes and anchors must have positive sizes.
    """
    b, a = as_boxes(boxes), as_boxes(anchors)
    if b.shape != a.shape:
        raise ValueError(f"boxes {b.shape} and anchors {a.shape} must have the same shape")
    x, y, w, h = _centre_size(b)
    xa, ya, wa, ha = _centre_size(a)
    if np.any(w <= 0) or np.any(h <= 0) or np.any(wa <= 0) or np.any(ha <= 0):
        raise ValueError("boxes and anchors must have positive width and height to encode")
    t = np.stack([(x - xa) / wa, (y - ya) / ha, np.log(w / wa), np.log(h / ha)], axis=1)
    return t / _std(std)


def decode_boxes(deltas, anchors, std: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
                 max_log_ratio: float = MAX_LOG_RATIO) -> np.ndarray:
    """Inverse of :func:`encode_boxes`: apply ``deltas`` (times ``std``) to ``anchors``.

    ``t_w`` and ``t_h`` are clamped to at most ``max_log_ratio`` before ``exp`` so a box never
    grows beyond 62.5 times its anchor (within that range decode inverts encode exactly).
    """
    d, a = as_boxes(deltas), as_boxes(anchors)
    if d.shape != a.shape:
        raise ValueError(f"deltas {d.shape} and anchors {a.shape} must have the same shape")
    d = d * _std(std)
    xa, ya, wa, ha = _centre_size(a)
    x = xa + d[:, 0] * wa
    y = ya + d[:, 1] * ha
    w = wa * np.exp(np.minimum(d[:, 2], max_log_ratio))
    h = ha * np.exp(np.minimum(d[:, 3], max_log_ratio))
    return np.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], axis=1)
