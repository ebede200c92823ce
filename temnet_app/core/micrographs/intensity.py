"""Grey conversion and the 8-bit intensity stretch for micrographs.

Colour -> grey uses the ITU-R BT.601 luminance weights (0.299 R + 0.587 G + 0.114 B), the
same as Pillow's "L" mode. Sources deeper than 8 bits (16-bit, 32-bit, float) are mapped to
0..255 by a percentile stretch:

    out = round(255 * (v - lo) / (hi - lo)), clipped to 0..255,
    lo, hi = the 0.5th and 99.5th percentiles of the finite pixels (numpy "linear" rule).

Why 0.5 / 99.5: CCD micrographs carry hot and dead pixels, dust and the odd saturated spot;
clipping half a percent at each end keeps those few outliers from flattening the contrast of
membranes and cores, while it is far less than the area of stained material or background
(a 4,000 x 2,620 image clips ~52,000 pixels per tail). A constant image (hi == lo, even over
the full finite range) becomes mid-grey 128. NaN and -inf pixels become 0, +inf 255.
8-bit sources are never stretched.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

LOW_PERCENTILE = 0.5
HIGH_PERCENTILE = 99.5
CONSTANT_GREY = 128
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
_ROWS_PER_CHUNK_PIXELS = 1 << 20


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Grey image from an (H, W, >=3) colour array (extra channels such as alpha ignored).

    8-bit input gives uint8 (rounded to nearest); anything else gives float32.
    """
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    grey = LUMA_WEIGHTS[0] * r + LUMA_WEIGHTS[1] * g + LUMA_WEIGHTS[2] * b
    if rgb.dtype == np.uint8:
        return np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    return grey


def _row_chunks(image: np.ndarray):
    step = max(1, _ROWS_PER_CHUNK_PIXELS // max(1, image.shape[1]))
    for start in range(0, image.shape[0], step):
        yield image[start:start + step]


def _small_int(dtype: np.dtype) -> bool:
    return dtype.kind in "ui" and dtype.itemsize <= 2


def _offset(dtype: np.dtype) -> int:
    """Shift that makes every value of a small integer dtype a non-negative table index."""
    return 1 << (8 * dtype.itemsize - 1) if dtype.kind == "i" else 0


def _counts(image: np.ndarray, offset: int, size: int) -> np.ndarray:
    """Histogram of an integer image of at most 16 bits, in bounded memory."""
    counts = np.zeros(size, dtype=np.int64)
    for chunk in _row_chunks(image):
        values = chunk.ravel().astype(np.int32) + offset
        counts += np.bincount(values, minlength=size)
    return counts


def percentiles_from_counts(counts: np.ndarray, qs) -> list[float]:
    """Percentiles of the multiset where value ``i`` occurs ``counts[i]`` times.

    Same result as ``np.percentile`` with the default "linear" rule on the expanded data.
    """
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])
    out = []
    for q in qs:
        position = q / 100.0 * (total - 1)
        k = int(np.floor(position))
        frac = position - k
        low = int(np.searchsorted(cumulative, k, side="right"))
        high = int(np.searchsorted(cumulative, min(k + 1, total - 1), side="right"))
        out.append(low + frac * (high - low))
    return out


def stretch_range(image: np.ndarray) -> Optional[tuple[float, float]]:
    """(lo, hi) intensity range the stretch maps to 0..255; None if no pixel is finite.

    lo/hi are the 0.5th/99.5th percentiles; if they coincide, the full finite min/max.
    """
    if _small_int(image.dtype):
        offset = _offset(image.dtype)
        size = 1 << (8 * image.dtype.itemsize)
        counts = _counts(image, offset, size)
        lo, hi = percentiles_from_counts(counts, (LOW_PERCENTILE, HIGH_PERCENTILE))
        nonzero = np.flatnonzero(counts)
        vmin, vmax = float(nonzero[0]), float(nonzero[-1])
        lo, hi, vmin, vmax = lo - offset, hi - offset, vmin - offset, vmax - offset
    else:
        values = image[np.isfinite(image)] if image.dtype.kind == "f" else image.ravel()
        if values.size == 0:
            return None
        values = values.astype(np.float64)
        lo, hi = (float(v) for v in np.percentile(values, (LOW_PERCENTILE, HIGH_PERCENTILE)))
        vmin, vmax = float(values.min()), float(values.max())
    if hi <= lo:
        lo, hi = vmin, vmax
    return float(lo), float(hi)


def _map_chunk(chunk: np.ndarray, lo: float, hi: float) -> np.ndarray:
    values = chunk.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        if hi > lo:
            scaled = (values - lo) * (255.0 / (hi - lo))
        else:
            scaled = np.where(np.isfinite(values), float(CONSTANT_GREY), values)
        scaled = np.clip(np.rint(scaled), 0.0, 255.0)
    scaled[np.isnan(scaled)] = 0.0
    return scaled.astype(np.uint8)


def to_uint8(image: np.ndarray) -> tuple[np.ndarray, Optional[tuple[float, float]]]:
    """2-D image -> (C-contiguous uint8 image, stretch range or None when already uint8).

    Raises ValueError when no pixel is finite (the caller names the file).
    """
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image), None
    limits = stretch_range(image)
    if limits is None:
        raise ValueError("the image holds no finite pixel values (all NaN or infinite)")
    lo, hi = limits
    out = np.empty(image.shape, dtype=np.uint8)
    if _small_int(image.dtype) and hi > lo:
        offset = _offset(image.dtype)
        levels = np.arange(1 << (8 * image.dtype.itemsize), dtype=np.float64) - offset
        table = _map_chunk(levels, lo, hi)
        row = 0
        for chunk in _row_chunks(image):
            out[row:row + chunk.shape[0]] = table[chunk.astype(np.int32) + offset]
            row += chunk.shape[0]
    else:
        row = 0
        for chunk in _row_chunks(image):
            out[row:row + chunk.shape[0]] = _map_chunk(chunk, lo, hi)
            row += chunk.shape[0]
    return out, (lo, hi)
