"""Is a micrograph's stated scale plausible? Judged from what the detector finds.

A wrong scale is the commonest silent failure: an export downsampled 4.77x but still labelled
30,000x shows virions ~55 px across where ~260 px are expected, and the detector, which
looks for virions of the expected size, finds few. Its confidence tells: measured on the
shipped model, the mean score of the confident (>= 0.5) detections peaks at the true scale
(the real reference micrograph: 0.84 at its true 6,285x against 0.81 at 0.71x and 0.77 at
1.41x of it, 0.74 when read as 30,000x; a simulated one: 0.96 at the true scale against 0.91
and 0.87 at 0.71x and 1.41x). So :func:`needs_probe` flags a micrograph whose detections look
off (few, unsure, or boxes of the wrong size), the detector then tries a few other scales on
the same pixels (:class:`ScaleTrial` each), and :func:`judge_scale` suggests the scale it is
clearly most confident at, if that is not the stated one.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Optional, Sequence

VIRION_NM = 145.0               # typical HIV-1 particle diameter (TEM_FACTS)
SIZE_WARNING_FACTOR = 1.6       # median box this far from VIRION_NM: the scale looks wrong
CONFIDENT = 0.5                 # detections counted as found
MIN_FOUND = 10                  # fewer confident detections than this: look closer
SURE_MEAN = 0.9                 # a mean confident score below this: look closer
MIN_TRIAL_FOUND = 5             # a trial scale needs this many confident detections to count
CLEAR_MARGIN = 0.05             # how much more confident another scale must be
# Trial scales as factors on the stated magnification (1 = as stated), from 4x larger to 8x
# smaller: exports are downsampled far more often than upsampled.
PROBE_FACTORS = (4.0, 2.83, 2.0, 1.41, 1.0, 0.71, 0.5, 0.35, 0.25, 0.18, 0.125)


@dataclass(frozen=True)
class ScaleTrial:
    """The detector's confident detections on one micrograph read at ``factor`` times its
    stated magnification: how many and their mean score."""

    factor: float
    found: int
    mean_score: float


@dataclass(frozen=True)
class ScaleAdvice:
    """A suggested scale: ``factor`` times the stated magnification (pixel size / factor)."""

    factor: float
    stated_pixel_size_nm: float
    stated_magnification: float
    stated: ScaleTrial
    best: ScaleTrial

    @property
    def pixel_size_nm(self) -> float:
        return self.stated_pixel_size_nm / self.factor

    @property
    def magnification(self) -> float:
        return self.stated_magnification * self.factor

    def message(self, name: str) -> str:
        """One line for the user about micrograph ``name``."""
        size = "smaller" if self.factor < 1 else "larger"
        ratio = 1 / self.factor if self.factor < 1 else self.factor
        return (f"{name}: the scale looks wrong. At the stated {self.stated_magnification:,.0f}x "
                f"({self.stated_pixel_size_nm:.3g} nm/px) the detector is unsure "
                f"({self.stated.found} virion(s), mean confidence "
                f"{self.stated.mean_score:.2f}); the virions look ~{ratio:.1f}x {size} than "
                f"expected. It is most confident at about {self.magnification:,.0f}x "
                f"({self.pixel_size_nm:.3g} nm/px: {self.best.found} virion(s), mean "
                f"{self.best.mean_score:.2f}). Check the micrograph's magnification or pixel "
                f"size{' (a downsampled export?)' if self.factor < 1 else ''}.")


def trial(factor: float, scores: Sequence[float]) -> ScaleTrial:
    """A :class:`ScaleTrial` from all detection scores at ``factor``."""
    sure = [float(s) for s in scores if s >= CONFIDENT]
    return ScaleTrial(float(factor), len(sure), statistics.fmean(sure) if sure else 0.0)


def median_side(boxes) -> Optional[float]:
    """Median of ``(width + height) / 2`` over boxes with ``x1, y1, x2, y2`` (None if none)."""
    sides = [((b.x2 - b.x1) + (b.y2 - b.y1)) / 2.0 for b in boxes]
    return statistics.median(sides) if sides else None


def size_off(median_px: Optional[float], pixel_size_nm: float) -> bool:
    """True when boxes of median side ``median_px`` are not virion-sized at ``pixel_size_nm``
    (more than :data:`SIZE_WARNING_FACTOR` away from :data:`VIRION_NM`)."""
    if median_px is None:
        return False
    ratio = median_px * pixel_size_nm / VIRION_NM
    return not 1 / SIZE_WARNING_FACTOR <= ratio <= SIZE_WARNING_FACTOR


def needs_probe(detections, pixel_size_nm: float) -> bool:
    """Do the detections at the stated scale look off: few confident ones, unsure ones, or
    boxes that are not virion-sized? (Then try other scales.)"""
    sure = [d for d in detections if d.score >= CONFIDENT]
    if len(sure) < MIN_FOUND:
        return True
    if statistics.fmean(d.score for d in sure) < SURE_MEAN:
        return True
    return size_off(median_side(sure), pixel_size_nm)


def judge_scale(trials: Sequence[ScaleTrial], pixel_size_nm: float,
                magnification: float) -> Optional[ScaleAdvice]:
    """The scale to suggest, or None when the stated one (the trial at factor 1) is as good.

    Another scale wins when it has at least :data:`MIN_TRIAL_FOUND` confident detections and
    its mean confident score beats the stated scale's by :data:`CLEAR_MARGIN` (or the stated
    scale has fewer than :data:`MIN_TRIAL_FOUND`)."""
    stated = next((t for t in trials if abs(t.factor - 1.0) < 1e-9), None)
    if stated is None:
        raise ValueError("the trials must include the stated scale (factor 1)")
    usable = [t for t in trials if t.found >= MIN_TRIAL_FOUND]
    if not usable:
        return None
    best = max(usable, key=lambda t: (t.mean_score, t.found))
    if best is stated or best.factor == stated.factor:
        return None
    if stated.found >= MIN_TRIAL_FOUND and best.mean_score < stated.mean_score + CLEAR_MARGIN:
        return None
    return ScaleAdvice(best.factor, float(pixel_size_nm), float(magnification), stated, best)
