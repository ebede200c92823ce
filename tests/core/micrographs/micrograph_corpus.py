"""Synthetic test images for the micrograph reader tests (generated, never committed)."""

from __future__ import annotations

import struct

import numpy as np

RAMP_STEP = 10
RAMP_LEVELS = 1001          # values 0, 10, ..., 10000
RAMP_ROWS = 16


def ramp16() -> np.ndarray:
    """16 x 1001 uint16 image, each row 0, 10, ..., 10000.

    Known answer for the 0.5 / 99.5 percentile stretch ("linear" rule): N = 16,016 values,
    each level repeated 16 times. Position 0.005 * 16015 = 80.075 falls between sorted
    indices 80 and 81, both level 5 (indices 80..95) -> lo = 50. Position 0.995 * 16015 =
    15934.925 lies between indices 15934 and 15935, both level 995 (15920..15935) ->
    hi = 9950. So v maps to round(255 * (v - 50) / 9900), clipped.
    """
    row = np.arange(RAMP_LEVELS, dtype=np.uint16) * RAMP_STEP
    return np.repeat(row[None, :], RAMP_ROWS, axis=0)


RAMP_LO, RAMP_HI = 50.0, 9950.0
# (source value, expected 8-bit value), by hand: 255 * (2525 - 50) / 9900 = 63.75 -> 64,
# 255 * (7475 - 50) / 9900 = 191.25 -> 191; ends clip to 0 and 255.
RAMP_EXPECTED = [(0, 0), (50, 0), (2525, 64), (7475, 191), (9950, 255), (10000, 255)]


def ramp_column(value: int) -> int:
    """Column of :func:`ramp16` holding ``value``."""
    return value // RAMP_STEP


def textured_body(height: int, width: int, mean: float, sd: float, seed: int = 0,
                  top: float = 255.0) -> np.ndarray:
    """A grainy grey micrograph-like float image with dark rings ("virions"), clipped to
    0..top."""
    rng = np.random.default_rng(seed)
    image = rng.normal(mean, sd, (height, width))
    yy, xx = np.mgrid[0:height, 0:width]
    for _ in range(max(1, height * width // 4000)):
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(8, 20)
        ring = np.abs(np.hypot(yy - cy, xx - cx) - r) < 2.0
        image[ring] -= 3 * sd
    return np.clip(image, 0, top)


def add_info_band(image: np.ndarray, rows: int, white: float, black: float = 0.0,
                  seed: int = 1) -> np.ndarray:
    """Replace the bottom ``rows`` of ``image`` by a white band with black text-like marks
    (two text blocks at left and right, a scale bar), like a JEOL/AMT info band."""
    out = image.copy()
    height, width = out.shape
    band = np.full((rows, width), white, dtype=out.dtype)
    rng = np.random.default_rng(seed)
    line_height = max(3, rows // 5)
    for line in range(4):                       # four text lines per block
        y0 = 2 + line * (line_height + 1)
        if y0 + line_height - 1 > rows:
            break
        for x_start, x_stop in ((2, width // 6), (width - width // 6, width - 2)):
            for x in range(x_start, x_stop, 4):     # glyphs: 2-3 px wide strokes
                if rng.random() < 0.7:
                    band[y0:y0 + line_height - 1, x:x + rng.integers(1, 3)] = black
    band[1:3, width - width // 6: width - width // 10] = black     # scale bar
    out[height - rows:] = band
    return out


def tiff_header_only(width: int, height: int) -> bytes:
    """A little-endian TIFF whose IFD claims ``width`` x ``height`` uint8 pixels but holds
    only 16 bytes of data (for checks that must happen before decoding)."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, height),
               (279, 4, 1, 16)]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if tag == 273:
            value = data_offset
        packed = struct.pack("<H", value) + b"\0\0" if typ == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, typ, count) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + ifd + bytes(16)
