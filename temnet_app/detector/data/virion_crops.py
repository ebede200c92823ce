"""Isolated virion crops for the backbone's classifier pre-training (paper 2.4, first stage).

The paper fine-tunes (ResNets) or trains from scratch (TEMNet) the backbone as a classifier of
1,806 isolated virions before any detection training. Here the isolated virions are cut from
the same labelled micrographs the detector trains on: every reference box gives one square
crop centred on the box, at NETWORK scale (the micrograph resized exactly as for the detector's
crops, see :class:`~.pipeline.CropSource`), so the backbone learns features at the size it will
see them in detection. The crop side is :func:`crop_side`: 400 micrograph pixels at the
training magnification (1.5x the median virion, so the whole particle plus a rim of its
surroundings), scaled to network pixels and rounded to a multiple of 32 (192 px for the
compact and paper presets). Parts of a crop past the micrograph edge take the micrograph's mean
grey, as the detector's crops do. Labels are 0-based: ``class_id - 1``. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress
from temnet_app.detector.model import DetectorConfig

__all__ = ["VirionCrops", "crop_side", "cut_virions", "CONTEXT_PX"]

CONTEXT_PX = 400.0  # crop side in micrograph pixels at the training magnification


@dataclass(frozen=True, eq=False)
class VirionCrops:
    """``images (N, S, S) uint8`` and ``labels (N,) int32`` (0-based classes); ``source``
    holds each crop's ``(micrograph index, box index)``."""

    images: np.ndarray
    labels: np.ndarray
    source: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self, num_classes: int) -> list[int]:
        return np.bincount(self.labels, minlength=num_classes)[:num_classes].tolist()


def crop_side(config: DetectorConfig) -> int:
    """Side of a virion crop in network pixels: :data:`CONTEXT_PX` scaled by
    ``net_input / window``, rounded to the nearest multiple of 32 (at least 32)."""
    side = CONTEXT_PX * config.net_input / config.window
    return max(32, 32 * int(round(side / 32.0)))


def _cut(pixels: np.ndarray, cx: float, cy: float, side: int, pad: int) -> np.ndarray:
    """The ``side`` square of ``pixels`` centred on ``(cx, cy)``, padded with ``pad``."""
    height, width = pixels.shape
    x0 = int(round(cx - side / 2.0))
    y0 = int(round(cy - side / 2.0))
    out = np.full((side, side), pad, dtype=np.uint8)
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + side, width), min(y0 + side, height)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = pixels[sy0:sy1, sx0:sx1]
    return out


def cut_virions(source, config: DetectorConfig, side: Optional[int] = None, *,
                progress: Optional[ProgressFn] = None,
                cancel: Optional[CancelToken] = None) -> VirionCrops:
    """One crop per reference box of every micrograph of ``source`` (a
    :class:`~.pipeline.CropSource`, whose resized micrographs are reused). Boxes whose class is
    not one of the config's classes are skipped."""
    side = int(side or crop_side(config))
    progress = progress or no_progress
    images, labels, where = [], [], []
    count = len(source.micrographs)
    for mi, micrograph in enumerate(source.micrographs):
        check_cancel(cancel)
        progress(mi / max(1, count), f"cutting virions of {micrograph.key}")
        if not micrograph.boxes:
            continue
        pixels, fx, fy, pad = source.network_image(mi)
        for bi, box in enumerate(micrograph.boxes):
            if not 1 <= box.class_id <= config.num_classes:
                continue
            x0, y0, x1, y1 = box.xyxy()
            images.append(_cut(pixels, (x0 + x1) / 2.0 * fx, (y0 + y1) / 2.0 * fy, side, pad))
            labels.append(box.class_id - 1)
            where.append((mi, bi))
    progress(1.0, f"cut {len(labels)} virion crops of {side} px")
    return VirionCrops(np.stack(images) if images else np.zeros((0, side, side), np.uint8),
                       np.asarray(labels, dtype=np.int32),
                       np.asarray(where, dtype=np.int64).reshape(-1, 2))
