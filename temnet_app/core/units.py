"""Physical scale of TEM micrographs.

The published TEMNet data were recorded at 30,000x on a JEOL 1200EX with an AMT 2k CCD,
calibrated at 0.561 nm per pixel. Pixel size scales inversely with magnification.
"""

DEFAULT_MAGNIFICATION = 30000.0
NM_PER_PIXEL_AT_DEFAULT = 0.561
MIN_MAGNIFICATION = 1000.0
MAX_MAGNIFICATION = 1_000_000.0


def nm_per_pixel(magnification: float) -> float:
    """Pixel size in nm at ``magnification`` (0.561 nm/px at 30,000x)."""
    check_magnification(magnification)
    return NM_PER_PIXEL_AT_DEFAULT * DEFAULT_MAGNIFICATION / float(magnification)


def magnification_from_pixel_size(nm_per_px: float) -> float:
    """Inverse of :func:`nm_per_pixel`, for files that carry a calibration instead."""
    if not nm_per_px > 0:
        raise ValueError(f"pixel size must be positive: {nm_per_px}")
    # rounded to a millionth so that nm_per_pixel and back gives the magnification exactly
    return round(NM_PER_PIXEL_AT_DEFAULT * DEFAULT_MAGNIFICATION / float(nm_per_px), 6)


def check_magnification(magnification: float) -> float:
    m = float(magnification)
    if not MIN_MAGNIFICATION <= m <= MAX_MAGNIFICATION:
        raise ValueError(f"magnification {magnification!r} is outside "
                         f"{MIN_MAGNIFICATION:,.0f}x-{MAX_MAGNIFICATION:,.0f}x")
    return m
