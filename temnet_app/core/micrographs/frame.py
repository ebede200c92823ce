"""Find a uniform frame around a micrograph: the black (or white) lines an export or a screen
capture leaves at its edges.

The real reference micrograph, for example, has 4 black rows at the top and 2 black columns at
each side. Such lines hold no image, and next to a virion cut by the edge they draw a dark
ring the detector was never trained on (the simulated micrographs end at the image), so the
detector runs on the part inside the frame.

The rule: a line (row or column) at an edge is part of the frame when the standard deviation of
its pixels is within ``FRAME_TOLERANCE`` of the image's grey range (1st to 99th percentile), and
so is the difference of its mean from the edge line's (one grey across the frame's lines); a
real micrograph line, with its noise, texture and particles, never is, while a frame saved as
JPEG, with a few grey levels of ringing, still is. The frame on one side is the run of such
lines counted in from the edge, at most ``MAX_FRAME_FRACTION`` of the image, and its grey must
lie outside the 1st-99th percentile range of the image inside it by more than the tolerance
(black or white against a grey micrograph; a uniform background the image itself shows, as in
a drawn test pattern, is not a frame). A uniform image has no frame.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

FRAME_TOLERANCE = 0.03
MAX_FRAME_FRACTION = 0.05
_SAMPLE_PIXELS = 1 << 20


class Frame(NamedTuple):
    """Lines of frame on each side of a micrograph (0 where there is none)."""

    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0

    def inside(self, image: np.ndarray) -> np.ndarray:
        """The view of ``image`` inside the frame."""
        height, width = image.shape[:2]
        return image[self.top:height - self.bottom, self.left:width - self.right]

    def filled(self, image: np.ndarray, value) -> np.ndarray:
        """A copy of ``image`` with the frame set to ``value``: the same size and coordinates,
        the frame made background."""
        out = np.full_like(image, value)
        self.inside(out)[...] = self.inside(image)
        return out


def _edge_lines(image: np.ndarray, side: str, count: int) -> np.ndarray:
    """The ``count`` lines at one edge of ``image``, the edge line first (lines x pixels)."""
    if side == "top":
        return image[:count]
    if side == "bottom":
        return image[::-1][:count]
    if side == "left":
        return image[:, :count].T
    return image[:, ::-1][:, :count].T


def _uniform_run(lines: np.ndarray, tolerance: float) -> tuple[int, float]:
    """How many lines, from the first, have a standard deviation within ``tolerance`` and a
    mean within ``tolerance`` of the first line's, and the mean grey of those lines (0 when
    there are none)."""
    if lines[0].astype(np.float64).std() > tolerance:
        return 0, 0.0                   # the usual case, no frame: one line decides
    values = lines.astype(np.float64)
    means, spreads = values.mean(axis=1), values.std(axis=1)
    breaks = np.flatnonzero((spreads > tolerance) | (np.abs(means - means[0]) > tolerance))
    run = int(breaks[0]) if breaks.size else len(lines)
    return run, float(means[:run].mean()) if run else 0.0


def _grey_range(image: np.ndarray) -> tuple[float, float]:
    """1st and 99th percentiles of ``image`` (sampled on a grid for large images)."""
    step = max(1, int(np.sqrt(image.size / _SAMPLE_PIXELS)))
    lo, hi = np.percentile(image[::step, ::step], (1.0, 99.0))
    return float(lo), float(hi)


def find_frame(image: np.ndarray) -> Frame:
    """The uniform frame around ``image`` (2-D, any real dtype, finite values)."""
    if image.ndim != 2 or min(image.shape) < 8:
        return Frame()
    lo, hi = _grey_range(image)
    tolerance = FRAME_TOLERANCE * (hi - lo)
    if not tolerance > 0:
        return Frame()
    height, width = image.shape
    limits = {"top": height, "bottom": height, "left": width, "right": width}
    runs = {side: _uniform_run(_edge_lines(image, side, max(1, int(n * MAX_FRAME_FRACTION))),
                               tolerance) for side, n in limits.items()}
    candidate = Frame(**{side: run for side, (run, _) in runs.items()})
    if candidate == Frame():
        return candidate
    # A frame is darker or brighter than the image it surrounds: a uniform edge at a grey the
    # image itself has (an empty background, a drawn test pattern) is image, not frame.
    lo, hi = _grey_range(candidate.inside(image))
    return Frame(**{side: run if (grey < lo - tolerance or grey > hi + tolerance) else 0
                    for side, (run, grey) in runs.items()})
