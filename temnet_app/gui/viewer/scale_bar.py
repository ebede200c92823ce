"""The scale bar: a length in nm that is a round number and 70-180 screen pixels long."""

from __future__ import annotations

from typing import Optional

_NICE = (1, 2, 5)


def nice_length_nm(nm_per_screen_px: float, target_px: float = 120.0) -> float:
    """The round length (1, 2 or 5 x 10^k nm) closest to ``target_px`` screen pixels."""
    if not nm_per_screen_px > 0:
        raise ValueError("nm per screen pixel must be positive")
    ideal = nm_per_screen_px * target_px
    best: Optional[float] = None
    exponent = int(f"{ideal:e}".split("e")[1])
    for k in (exponent - 1, exponent, exponent + 1):
        for base in _NICE:
            length = base * 10.0 ** k
            if best is None or abs(length - ideal) < abs(best - ideal):
                best = length
    return float(best)


def format_length(nm: float) -> str:
    if nm >= 1000:
        value = nm / 1000
        return f"{value:g} µm"
    return f"{nm:g} nm"
