"""Box arithmetic in TensorFlow: the eq. 4 encoding, its inverse, clipping, areas.

Boxes are ``(..., 4)`` float ``xyxy`` in continuous pixel coordinates of one frame (a box spans
``[x1, x2) x [y1, y2)``: width ``x2 - x1``, centre ``(x1 + x2) / 2``). These are the TensorFlow
twins of :mod:`temnet_app.core.box_math` (the numpy reference), tested to agree to 1e-5.
"""

from __future__ import annotations

import math
from typing import Sequence

import tensorflow as tf

# Same guard as core.box_math.MAX_LOG_RATIO: a box grows at most 62.5x its reference.
MAX_LOG_RATIO = math.log(1000.0 / 16.0)


def _std(std: Sequence[float]) -> tf.Tensor:
    return tf.constant([float(s) for s in std], tf.float32)


def centre_size(boxes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """``(cx, cy, w, h)`` of xyxy boxes, each of shape ``boxes.shape[:-1]``."""
    x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
    w = x2 - x1
    h = y2 - y1
    return x1 + 0.5 * w, y1 + 0.5 * h, w, h


def encode_boxes(boxes: tf.Tensor, anchors: tf.Tensor,
                 std: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> tf.Tensor:
    """Eq. 4 offsets of ``boxes`` from ``anchors`` (same shape ``(..., 4)``), divided by ``std``.

    ``t_x = (x - x_a) / w_a``, ``t_y = (y - y_a) / h_a``, ``t_w = log(w / w_a)``,
    ``t_h = log(h / h_a)``. Both inputs need positive widths and heights.
    """
    bx1, by1, bx2, by2 = tf.unstack(tf.cast(boxes, tf.float32), axis=-1)
    ax1, ay1, ax2, ay2 = tf.unstack(tf.cast(anchors, tf.float32), axis=-1)
    wa, ha = ax2 - ax1, ay2 - ay1
    # Centre offsets as differences of corresponding edges: exact for nearby boxes, so
    # float32 keeps full relative precision even far from the origin.
    t = tf.stack([0.5 * ((bx1 - ax1) + (bx2 - ax2)) / wa, 0.5 * ((by1 - ay1) + (by2 - ay2)) / ha,
                  tf.math.log((bx2 - bx1) / wa), tf.math.log((by2 - by1) / ha)], axis=-1)
    return t / _std(std)


def decode_boxes(deltas: tf.Tensor, anchors: tf.Tensor,
                 std: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
                 max_log_ratio: float = MAX_LOG_RATIO) -> tf.Tensor:
    """Inverse of :func:`encode_boxes`: apply ``deltas * std`` to ``anchors`` (broadcasting).

    ``t_w``, ``t_h`` are clamped to ``max_log_ratio`` before ``exp`` (as the numpy reference).
    """
    d = tf.cast(deltas, tf.float32) * _std(std)
    xa, ya, wa, ha = centre_size(tf.cast(anchors, tf.float32))
    dx, dy, dw, dh = tf.unstack(d, axis=-1)
    x = xa + dx * wa
    y = ya + dy * ha
    w = wa * tf.exp(tf.minimum(dw, max_log_ratio))
    h = ha * tf.exp(tf.minimum(dh, max_log_ratio))
    return tf.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], axis=-1)


def clip_boxes(boxes: tf.Tensor, height, width) -> tf.Tensor:
    """Boxes clipped to the image ``[0, width] x [0, height]`` (scalars or tensors)."""
    boxes = tf.cast(boxes, tf.float32)
    w = tf.cast(width, tf.float32)
    h = tf.cast(height, tf.float32)
    x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
    return tf.stack([tf.clip_by_value(x1, 0.0, w), tf.clip_by_value(y1, 0.0, h),
                     tf.clip_by_value(x2, 0.0, w), tf.clip_by_value(y2, 0.0, h)], axis=-1)


def box_areas(boxes: tf.Tensor) -> tf.Tensor:
    """Areas of xyxy boxes; inverted or degenerate boxes have area 0."""
    x1, y1, x2, y2 = tf.unstack(tf.cast(boxes, tf.float32), axis=-1)
    return tf.maximum(x2 - x1, 0.0) * tf.maximum(y2 - y1, 0.0)


def xyxy_to_yxyx(boxes: tf.Tensor) -> tf.Tensor:
    """Swap to TensorFlow's ``(y1, x1, y2, x2)`` order (for tf.image ops); its own inverse."""
    x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
    return tf.stack([y1, x1, y2, x2], axis=-1)
