"""Checks of the simulator's settings (:class:`~temnet_app.simulator.simulate.SimulationParams`):
one :class:`~temnet_app.core.errors.TemnetError` naming the setting and the allowed values."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from temnet_app.core.boxes import DEFAULT_SCHEME
from temnet_app.core.errors import TemnetError
from temnet_app.core.scale import check_pixel_size
from temnet_app.core.units import check_magnification

if TYPE_CHECKING:
    from temnet_app.simulator.simulate import SimulationParams


def check_magnification_or_fail(magnification: float) -> float:
    try:
        return check_magnification(magnification)
    except (TypeError, ValueError) as exc:
        raise TemnetError(str(exc)) from None


def as_range(value) -> tuple[float, float]:
    if isinstance(value, (tuple, list)):
        return float(value[0]), float(value[1])
    return float(value), float(value)


def validate_params(p: SimulationParams) -> None:
    def fail(message: str) -> None:
        raise TemnetError(f"invalid simulation setting: {message}")

    for name in ("width", "height"):
        value = getattr(p, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or not 64 <= value <= 20000:
            fail(f"{name} must be a whole number of pixels in 64..20000, not {value!r}")
    check_magnification_or_fail(p.magnification)
    if p.pixel_size_nm is not None:
        try:
            check_pixel_size(p.pixel_size_nm)
        except ValueError as error:
            fail(str(error))
    lo, hi = as_range(p.density)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo <= hi <= 100):
        fail(f"density must be 0..100 virions per um^2 (or a low <= high range), "
             f"not {p.density!r}")
    if p.count is not None:
        lo, hi = as_range(p.count)
        if not (lo == int(lo) and hi == int(hi) and 0 <= lo <= hi <= 5000):
            fail(f"count must be a whole number 0..5000 (or a low <= high range), "
                 f"not {p.count!r}")
    try:
        mix = {DEFAULT_SCHEME.id(k): float(v) for k, v in dict(p.class_mix).items()}
    except (ValueError, TypeError, AttributeError):
        fail(f"class_mix must map class names ({', '.join(DEFAULT_SCHEME.names)}) to "
             f"fractions, not {p.class_mix!r}")
    if any(not (math.isfinite(v) and v >= 0) for v in mix.values()) or sum(mix.values()) <= 0:
        fail(f"class_mix fractions must be >= 0 with a positive sum, not {dict(p.class_mix)!r}")
    if isinstance(p.seed, bool) or not isinstance(p.seed, (int, np.integer)) or p.seed < 0:
        fail(f"seed must be a non-negative integer, not {p.seed!r}")
    for name in ("distractors", "debris", "flocs", "contrast", "illumination", "blur_nm",
                 "dose", "read_noise"):
        value = getattr(p, name)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            fail(f"{name} must be a number >= 0, not {value!r}")
    try:
        lo, hi = as_range(p.cap_size)
    except (TypeError, ValueError, IndexError):
        lo = hi = math.nan
    if not (0.2 <= lo <= hi <= 1.5):
        fail(f"cap_size must be a range of fractions of a virion in 0.2..1.5, "
             f"not {p.cap_size!r}")
    for name, low, high in (("cap_depth", 0.2, 0.95), ("cap_density", 0.1, 8.0)):
        try:
            lo, hi = as_range(getattr(p, name))
        except (TypeError, ValueError, IndexError):
            lo = hi = math.nan
        if not (low <= lo <= hi <= high):
            fail(f"{name} must be a range in {low:g}..{high:g}, not {getattr(p, name)!r}")
    if not (isinstance(p.class_ambiguity, (int, float)) and 0.0 <= p.class_ambiguity <= 1.0):
        fail(f"class_ambiguity must be a number in [0, 1], not {p.class_ambiguity!r}")
    if p.contrast <= 0 or p.contrast > 5:
        fail(f"contrast must be in (0, 5], not {p.contrast!r}")
    if p.binning not in (1, 2):
        fail(f"binning must be 1 or 2, not {p.binning!r}")
