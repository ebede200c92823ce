"""Detect the microscope's info band at the bottom of a micrograph.

JEOL / AMT cameras append a near-white band across the bottom of the saved image, with sparse
black text (file name, ``Cal: 0.561 nm/pix``, date, scale bar, HV, ``Direct Mag: 30000x``):
about 8-10 % of the height, with a sharp straight edge against the grey micrograph.

The rule, in the image's own intensity units (works for 8-bit, 16-bit and float alike):

* ``white`` = the median of the bottom row; ``lo`` = the 1st percentile of the image;
  ``range = white - lo``. The bottom row must be at the bright end of the data
  (``white >= p99 - 10 % of range``), else there is no band.
* A band row has its median within 10 % of the range of ``white`` and at least 60 % of its
  pixels that close to white (so text, the scale bar and JPEG ringing are tolerated).
* The band is the run of such rows counted up from the bottom. It must be at least 2 % of
  the height (and 3 rows) and at most 25 %; a longer run means a bright image, not a band.
* The image above must be clearly darker: the median of the rows above the band, and of each
  of the rows 3-6 above its top edge (two rows of blur are allowed at the edge), at most
  ``white - 25 % of range``. A bright micrograph or a smooth illumination gradient fails this.
"""

from __future__ import annotations

import numpy as np

MAX_BAND_FRACTION = 0.25
MIN_BAND_FRACTION = 0.02
MIN_BAND_ROWS = 3
WHITE_TOLERANCE = 0.10
MIN_WHITE_PIXELS = 0.60
MIN_CONTRAST = 0.25
EDGE_SKIP_ROWS = 2
EDGE_CHECK_ROWS = 4
_SAMPLE_PIXELS = 1 << 20
_BLOCK_PIXELS = 4_000_000


def _finite_float(block: np.ndarray, fill: float) -> np.ndarray:
    values = block.astype(np.float64)
    if block.dtype.kind == "f":
        values[~np.isfinite(values)] = fill
    return values


def _sample(image: np.ndarray) -> np.ndarray:
    step = max(1, int(np.sqrt(image.size / _SAMPLE_PIXELS)))
    return image[::step, ::step]


def detect_info_band(image: np.ndarray) -> int:
    """Number of bottom rows of ``image`` (2-D, any real dtype) forming an info band; 0 if none."""
    height = image.shape[0]
    if image.ndim != 2 or height < 16 or image.shape[1] == 0:
        return 0
    max_rows = int(height * MAX_BAND_FRACTION)
    min_rows = max(MIN_BAND_ROWS, int(np.ceil(height * MIN_BAND_FRACTION)))
    if max_rows < min_rows:
        return 0

    sample = _sample(image)
    finite = sample[np.isfinite(sample)] if sample.dtype.kind == "f" else sample.ravel()
    if finite.size == 0:
        return 0
    lo, p99 = (float(v) for v in np.percentile(finite, (1.0, 99.0)))

    # Bottom block: one row more than the largest band, to tell a band from a bright image.
    # Columns are thinned on very wide images so the float copy stays small (a 4000 x 2620
    # micrograph is read whole; a 40,000 px wide one every 4th column).
    columns = max(1, -(-(max_rows + 1) * image.shape[1] // _BLOCK_PIXELS))
    block = _finite_float(image[height - max_rows - 1:, ::columns], lo)
    row_median = np.median(block, axis=1)
    white = float(row_median[-1])
    span = white - lo
    if not span > 0 or white < p99 - WHITE_TOLERANCE * span:
        return 0
    near_white = block >= white - WHITE_TOLERANCE * span
    is_band_row = ((row_median >= white - WHITE_TOLERANCE * span)
                   & (near_white.mean(axis=1) >= MIN_WHITE_PIXELS))
    not_band = np.flatnonzero(~is_band_row[::-1])
    if not_band.size == 0:
        return 0                      # the whole bottom quarter is white: a bright image
    rows = int(not_band[0])
    if rows < min_rows:
        return 0

    top = height - rows
    darker = white - MIN_CONTRAST * span
    edge = image[max(0, top - EDGE_SKIP_ROWS - EDGE_CHECK_ROWS):top - EDGE_SKIP_ROWS, ::columns]
    if edge.shape[0] == 0 or np.median(_finite_float(edge, lo), axis=1).max() > darker:
        return 0
    body = _sample(image[:top])
    if float(np.median(_finite_float(body, lo))) > darker:
        return 0
    return rows
