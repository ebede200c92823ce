"""Anchor boxes for the RPN, one scale per pyramid level, every ratio at every anchor cell.

Geometry (network-input pixels, xyxy, continuous coordinates):

* Level ``k`` has stride ``s = 2**k`` and ``ceil(H / s) x ceil(W / s)`` cells (input sides are
  multiples of 32, so the backbone's own levels divide exactly; subsampled extra levels round
  up like the stride-2 pooling that makes them). Cell ``(i, j)`` covers pixels
  ``[j s, (j + 1) s) x [i s, (i + 1) s)`` and is centred on ``((j + 0.5) s, (i + 0.5) s)``.
* With ``anchor_stride = t`` the RPN evaluates every ``t``-th cell (rows and columns
  ``0, t, 2t, ...``: ``ceil(n / t)`` of them), exactly where the RPN head's stride-``t`` conv
  is centred (see :class:`temnet_app.detector.model.rpn.RPNHead`).
* A ratio ``r`` is width / height: ``w = scale * sqrt(r)``, ``h = scale / sqrt(r)`` (area
  ``scale**2``).

Order (the RPN outputs use the same): level by level (finest first), then cell rows, then cell
columns, then ratios in the configured order.
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np

__all__ = ["level_shape", "grid_shape", "cell_anchors", "level_anchors", "generate_anchors",
           "anchors_for_config", "anchor_counts", "anchors_tf"]


def level_shape(image_hw: Sequence[int], level: int) -> tuple[int, int]:
    """Feature-map size ``(rows, cols)`` of pyramid level ``level`` for an input ``(H, W)``."""
    s = 2 ** int(level)
    return (-(-int(image_hw[0]) // s), -(-int(image_hw[1]) // s))


def grid_shape(image_hw: Sequence[int], level: int, anchor_stride: int) -> tuple[int, int]:
    """Anchor cells per side at ``level``: every ``anchor_stride``-th feature cell."""
    rows, cols = level_shape(image_hw, level)
    t = int(anchor_stride)
    return (-(-rows // t), -(-cols // t))


def cell_anchors(scale: float, ratios: Sequence[float]) -> np.ndarray:
    """``(len(ratios), 4)`` anchors of one cell centred on the origin."""
    r = np.asarray(ratios, dtype=np.float64)
    w = float(scale) * np.sqrt(r)
    h = float(scale) / np.sqrt(r)
    return np.stack([-0.5 * w, -0.5 * h, 0.5 * w, 0.5 * h], axis=1)


def level_anchors(image_hw: Sequence[int], level: int, scale: float, ratios: Sequence[float],
                  anchor_stride: int = 1) -> np.ndarray:
    """All anchors of one level, ``(rows * cols * len(ratios), 4)`` float64, in RPN order."""
    s = 2.0 ** int(level)
    rows, cols = grid_shape(image_hw, level, anchor_stride)
    cy = (np.arange(rows) * int(anchor_stride) + 0.5) * s
    cx = (np.arange(cols) * int(anchor_stride) + 0.5) * s
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    centres = np.stack([xx, yy, xx, yy], axis=-1).reshape(-1, 1, 4)
    return (centres + cell_anchors(scale, ratios)[None, :, :]).reshape(-1, 4)


@functools.lru_cache(maxsize=32)
def _cached(image_hw: tuple, levels: tuple, scales: tuple, ratios: tuple,
            anchor_stride: int) -> np.ndarray:
    parts = [level_anchors(image_hw, lv, sc, ratios, anchor_stride)
             for lv, sc in zip(levels, scales)]
    out = np.concatenate(parts, axis=0).astype(np.float32)
    out.setflags(write=False)
    return out


def generate_anchors(image_hw: Sequence[int], levels: Sequence[int], scales: Sequence[float],
                     ratios: Sequence[float], anchor_stride: int = 1) -> np.ndarray:
    """Anchors of every level, ``(N, 4)`` float32 xyxy (read-only, cached per image shape)."""
    if len(levels) != len(scales):
        raise ValueError(f"one anchor scale per level: {len(levels)} levels, "
                         f"{len(scales)} scales")
    key = (int(image_hw[0]), int(image_hw[1]))
    return _cached(key, tuple(int(v) for v in levels), tuple(float(v) for v in scales),
                   tuple(float(v) for v in ratios), int(anchor_stride))


def anchors_for_config(config, image_hw: Sequence[int]) -> np.ndarray:
    """:func:`generate_anchors` with a :class:`DetectorConfig`'s levels, scales and ratios."""
    return generate_anchors(image_hw, config.rpn_levels, config.anchor_scales,
                            config.anchor_ratios, config.anchor_stride)


def anchor_counts(config, image_hw: Sequence[int]) -> list[int]:
    """Anchors per RPN level, in order (to split the concatenated RPN outputs)."""
    return [math.prod(grid_shape(image_hw, lv, config.anchor_stride)) * len(config.anchor_ratios)
            for lv in config.rpn_levels]


def anchors_tf(image_hw, levels: Sequence[int], scales: Sequence[float],
               ratios: Sequence[float], anchor_stride: int = 1):
    """TensorFlow twin of :func:`generate_anchors` for a dynamic ``image_hw`` (int tensor).

    Used inside the graph so the model runs on any input size without retracing.
    """
    import tensorflow as tf

    hw = tf.cast(image_hw, tf.int32)
    t = int(anchor_stride)
    parts = []
    for level, scale in zip(levels, scales):
        s = 2 ** int(level)
        rows = (hw[0] + s - 1) // s
        cols = (hw[1] + s - 1) // s
        rows = (rows + t - 1) // t
        cols = (cols + t - 1) // t
        cy = (tf.cast(tf.range(rows) * t, tf.float32) + 0.5) * float(s)
        cx = (tf.cast(tf.range(cols) * t, tf.float32) + 0.5) * float(s)
        yy, xx = tf.meshgrid(cy, cx, indexing="ij")
        centres = tf.reshape(tf.stack([xx, yy, xx, yy], axis=-1), [-1, 1, 4])
        cell = tf.constant(cell_anchors(scale, ratios), tf.float32)[None, :, :]
        parts.append(tf.reshape(centres + cell, [-1, 4]))
    return tf.concat(parts, axis=0)
