"""Display levels of an 8-bit micrograph: auto-levels from percentiles and the brightness /
contrast mapping, applied as a 256-entry colour table (the pixels are never recomputed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AUTO_PERCENTILES = (0.5, 99.5)


@dataclass(frozen=True)
class Levels:
    """Grey value ``black`` shows as black and ``white`` as white, linear in between."""

    black: float = 0.0
    white: float = 255.0

    def table(self) -> np.ndarray:
        """The 256 display values (uint8) of the grey values 0..255."""
        span = max(1e-6, self.white - self.black)
        grey = (np.arange(256, dtype=np.float64) - self.black) * (255.0 / span)
        return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def auto_levels(pixels: np.ndarray, step: int = 4) -> Levels:
    """Levels from the 0.5 / 99.5 percentiles of every ``step``-th pixel (fast on 10 MP)."""
    sample = pixels[::step, ::step]
    if sample.size == 0:
        return Levels()
    lo, hi = np.percentile(sample, AUTO_PERCENTILES)
    if hi - lo < 2:
        lo, hi = float(sample.min()), float(max(sample.max(), sample.min() + 1))
    return Levels(float(lo), float(hi))


def adjusted(base: Levels, brightness: int, contrast: int) -> Levels:
    """``base`` moved by the sliders: ``brightness`` -100..100 shifts the window by up to half
    the grey range (positive = brighter), ``contrast`` -100..100 narrows (positive) or widens
    the window by up to 4x."""
    centre = (base.black + base.white) / 2.0 - brightness / 100.0 * 128.0
    width = (base.white - base.black) * 2.0 ** (-contrast / 50.0)
    return Levels(centre - width / 2.0, centre + width / 2.0)
