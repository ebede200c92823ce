"""Magnification-aware sliding windows over a whole micrograph (paper section 3.1, eq. 6).

A micrograph is cut into overlapping square windows whose side keeps the physical size of the
training crops (1,024 px at 30,000x); each window is resized to the network input, the boxes
found in it are mapped back to micrograph pixels, and overlapping boxes from neighbouring
windows are merged by NMS. The alternative whole-micrograph mode rescales the full image once so
virions have their training size in network pixels.

Coordinates: xyxy float pixels, continuous (a pixel ``i`` spans ``[i, i + 1)``). Windows hold
integer pixel bounds. numpy + Pillow only; no TensorFlow here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image

from temnet_app.core.box_math import as_boxes, nms

TRAIN_WINDOW = 1024
TRAIN_MAGNIFICATION = 30000.0
NET_INPUT = 512
MERGE_IOU = 0.3
# The feature pyramid's coarsest map has stride 32 (P6 = stride-2 subsample of the stride-16
# P4 for TEMNet; C5 of the ResNets); input sides that are multiples of 32 keep every level an
# exact 2x of the next, so the top-down upsample + add lines up and no border is cropped.
SIZE_MULTIPLE = 32
# Resampling filter for every resize: Pillow's bilinear resize widens its triangle kernel by the
# reduction factor, so a 1,024 -> 512 shrink averages neighbouring pixels (anti-aliased, like an
# area filter, which keeps the shot noise of TEM images from aliasing into texture) while a
# non-integer factor (853 -> 512) stays smooth, without the blockiness of the box filter.
RESAMPLE = Image.Resampling.BILINEAR


@dataclass(frozen=True)
class Window:
    """Pixel bounds ``[x0, x1) x [y0, y1)`` of a window inside the micrograph.

    ``size`` is the nominal square side; a window is at most ``size`` wide and high. When the
    image is smaller than ``size`` the content sits at the top-left of a ``size`` square and the
    rest is padded (see :func:`extract_windows`), so the network scale is always
    ``out_size / size``.
    """

    x0: int
    y0: int
    x1: int
    y1: int
    size: int

    def __post_init__(self) -> None:
        if not (0 <= self.x0 < self.x1 and 0 <= self.y0 < self.y1):
            raise ValueError(f"empty or negative window {self}")
        if self.x1 - self.x0 > self.size or self.y1 - self.y0 > self.size:
            raise ValueError(f"window {self} is larger than its nominal size")

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def window_size(magnification: float, train_window: int = TRAIN_WINDOW,
                train_magnification: float = TRAIN_MAGNIFICATION) -> int:
    """Window side in pixels at ``magnification`` (eq. 6): ``W = W_t * M / M_t``, rounded.

    1,024 px at 30,000x, 853 px at 25,000x, 683 px at 20,000x.
    """
    if not magnification > 0 or not train_magnification > 0 or train_window < 1:
        raise ValueError(f"invalid magnification {magnification!r} or training window")
    return max(1, _round_half_up(train_window * float(magnification) / train_magnification))


def _starts(length: int, window: int, step: int) -> list[int]:
    if length <= window:
        return [0]
    n = math.ceil((length - window) / step) + 1
    return [i * step for i in range(n - 1)] + [length - window]


def _count(length: int, window: int, step: int) -> int:
    return 1 if length <= window else math.ceil((length - window) / step) + 1


def count_windows(width: int, height: int, window: int, overlap: int) -> int:
    """``len(plan_windows(...))`` without building the list (a wrong scale can ask for
    millions of windows)."""
    step = max(1, int(window) - int(overlap))
    return _count(int(width), int(window), step) * _count(int(height), int(window), step)


def plan_windows(width: int, height: int, window: int, overlap: int) -> list[Window]:
    """Windows of side ``window`` covering a ``width x height`` image, row by row.

    Consecutive windows start ``window - overlap`` px apart; the last window of each row and
    column is flush with the right / bottom edge (so it may overlap its neighbour by more than
    ``overlap``). Along a side shorter than ``window`` there is one window spanning that side.
    """
    width, height, window, overlap = int(width), int(height), int(window), int(overlap)
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive: {width} x {height}")
    if window < 1 or not 0 <= overlap < window:
        raise ValueError(f"need window >= 1 and 0 <= overlap < window: {window}, {overlap}")
    step = window - overlap
    return [Window(x, y, min(x + window, width), min(y + window, height), window)
            for y in _starts(height, window, step) for x in _starts(width, window, step)]


def resize_uint8(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """A 2-D uint8 image resized to ``width x height`` with :data:`RESAMPLE`."""
    if image.shape == (height, width):
        return np.array(image, dtype=np.uint8, copy=True)
    pil = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))  # 2-D uint8 -> "L"
    return np.asarray(pil.resize((int(width), int(height)), RESAMPLE), dtype=np.uint8)


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 image, got {image.dtype} {image.shape}")
    return image


def pad_value(image: np.ndarray) -> int:
    """Grey used to pad windows that run past the image: the rounded mean of the micrograph.

    A neutral mean grey (rather than black, which reads as dense stain) keeps the padding from
    looking like a dense object and puts it near the centre of the network's input range.
    """
    return int(_round_half_up(float(np.mean(image)))) if image.size else 0


def extract_windows(image: np.ndarray, windows: Sequence[Window], out_size: int,
                    fill: Optional[int] = None) -> np.ndarray:
    """Crops of ``image`` at ``windows`` resized to ``out_size``, ``(N, out_size, out_size)``.

    A window smaller than its nominal ``size`` is padded at the right / bottom to a ``size``
    square with ``fill`` (default :func:`pad_value` of the whole image; pass it when cutting
    many batches of one large image, as the mean costs a pass over every pixel).
    """
    image = _check_image(image)
    out = np.empty((len(windows), int(out_size), int(out_size)), dtype=np.uint8)
    if fill is None:
        fill = pad_value(image)
    for i, w in enumerate(windows):
        if w.x1 > image.shape[1] or w.y1 > image.shape[0]:
            raise ValueError(f"window {w} lies outside the {image.shape[1]} x {image.shape[0]} "
                             f"image")
        crop = image[w.y0:w.y1, w.x0:w.x1]
        if crop.shape != (w.size, w.size):
            square = np.full((w.size, w.size), fill, dtype=np.uint8)
            square[:w.height, :w.width] = crop
            crop = square
        out[i] = resize_uint8(crop, out_size, out_size)
    return out


def window_scale(window: Union[Window, int], out_size: int) -> float:
    """Network pixels per micrograph pixel for a window (a :class:`Window` or its side)."""
    side = window.size if isinstance(window, Window) else int(window)
    if side < 1 or out_size < 1:
        raise ValueError(f"invalid window {window!r} or output size {out_size!r}")
    return float(out_size) / float(side)


def to_micrograph(boxes_xyxy: np.ndarray, window: Window, out_size: int) -> np.ndarray:
    """Boxes from a window's network input (``out_size`` square) into micrograph pixels.

    Divides by :func:`window_scale` and shifts by the window origin. Boxes are not clipped:
    a box reaching into the padding extends past the image; clip with
    :func:`temnet_app.core.box_math.clip_boxes`.
    """
    b = as_boxes(boxes_xyxy) / window_scale(window, out_size)
    return b + np.array([window.x0, window.y0, window.x0, window.y0], dtype=np.float64)


def merge_windows(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray,
                  iou_threshold: float = MERGE_IOU) -> np.ndarray:
    """Indices of the boxes kept after merging detections from overlapping windows.

    Class-agnostic NMS: a virion has exactly one morphology, so two boxes on the same particle
    compete whatever their classes and only the more confident survives; a box is dropped when
    its IoU with a kept box exceeds ``iou_threshold`` (0.3 in the paper), and on a score tie
    the larger box is kept. ``class_ids`` only has to match ``boxes`` in length. Returns
    indices by descending score.
    """
    b = as_boxes(boxes)
    if not len(b) == len(np.asarray(scores).reshape(-1)) == len(np.asarray(class_ids).reshape(-1)):
        raise ValueError("boxes, scores and class_ids must have the same length")
    return nms(b, scores, iou_threshold)


def whole_image_scale(magnification: float, train_window: int = TRAIN_WINDOW,
                      net_input: int = NET_INPUT,
                      train_magnification: float = TRAIN_MAGNIFICATION) -> float:
    """Factor to resize a whole micrograph so virions have their training size in network px.

    Equal to ``net_input / window_size(magnification)``: 0.5 at 30,000x for a 1,024 -> 512
    training resize.
    """
    return float(net_input) / window_size(magnification, train_window, train_magnification)


def _multiple(x: float) -> int:
    return max(SIZE_MULTIPLE, SIZE_MULTIPLE * _round_half_up(x / SIZE_MULTIPLE))


def rescale_image(image: np.ndarray, factor: float) -> tuple[np.ndarray, float, float]:
    """Resize ``image`` by about ``factor``, each side rounded to a multiple of 32.

    Returns ``(resized, factor_x, factor_y)`` with the factors actually applied
    (``new_width / width``, ``new_height / height``); divide box x / y by them to go back.
    """
    image = _check_image(image)
    if not factor > 0:
        raise ValueError(f"scale factor must be positive: {factor!r}")
    h, w = image.shape
    new_w, new_h = _multiple(w * factor), _multiple(h * factor)
    return resize_uint8(image, new_w, new_h), new_w / w, new_h / h
