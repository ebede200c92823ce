"""What a micrograph file holds before conversion: the decoded image and its scale metadata.

Shared by the TIFF and Pillow readers: the :class:`SourceImage` record, the error helper that
names the file, the size checks, and the parsers that pull the magnification and pixel size
out of description text (TIFF ImageDescription, PNG text chunks, JPEG comments).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from temnet_app.core import units
from temnet_app.core.errors import MicrographError

MIN_SIDE = 16
DEFAULT_MAX_PIXELS = 40_000 * 40_000


@dataclass
class SourceImage:
    """One decoded micrograph in source units (internal to the readers).

    ``grey`` is 2-D in the source dtype (or float for colour sources that were not 8-bit);
    ``None`` when only the header was read. ``shape`` and ``dtype`` describe the first page
    as stored (samples axis included).
    """

    format: str
    dtype: str
    shape: tuple
    height: int
    width: int
    page_count: int
    magnification: Optional[float]
    pixel_size_nm: Optional[float]
    grey: Optional[np.ndarray] = None


def fail(path: Path, reason: str) -> MicrographError:
    """A MicrographError naming ``path``; ``reason`` is reduced to one line."""
    line = " ".join(str(reason).split())
    return MicrographError(f"cannot open micrograph {path}: {line}")


def check_dtype(path: Path, dtype: np.dtype) -> None:
    """Reject pixel types that are not intensities (bool, complex, structured)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        raise fail(path, "1-bit black-and-white image; a micrograph needs grey levels")
    if dtype.kind == "c":
        raise fail(path, f"complex-valued pixels ({dtype.name}) are not image intensities")
    if dtype.kind not in "uif":
        raise fail(path, f"unsupported pixel type {dtype}")


def check_size(path: Path, height: int, width: int, max_pixels: int) -> None:
    """Reject images that are empty, smaller than 16 px on a side, or over ``max_pixels``."""
    if height <= 0 or width <= 0:
        raise fail(path, f"the image has zero size ({width} x {height} pixels)")
    if height < MIN_SIDE or width < MIN_SIDE:
        raise fail(path, f"the image is only {width} x {height} pixels; at least "
                         f"{MIN_SIDE} x {MIN_SIDE} are needed")
    if height * width > max_pixels:
        raise fail(path, f"the image is too large: {width} x {height} pixels, more than "
                         f"the limit of {max_pixels:,} pixels")


# ---------------------------------------------------------------- scale metadata

_NUMBER = r"([0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_MAG_RE = re.compile(
    r"(?<![a-z])(?:direct[\s_]*)?mag(?:nification)?\s*[:=]\s*" + _NUMBER + r"\s*(k)?\s*x?(?![a-z])",
    re.IGNORECASE)
_SIZE_RE = re.compile(
    r"(?<![a-z])(cal(?:ibration)?|pixel[\s_]*size(?:[\s_]*\(?nm\)?)?|pixel[\s_]*spacing)"
    r"\s*[:=]\s*" + _NUMBER + r"\s*(nm|angstroms?|å|a|um|µm|μm|pm)?(?![a-z])",
    re.IGNORECASE)
# length units (lower case) -> nanometres: for description texts and the formats' axis units
NM_PER_LENGTH_UNIT = {"nm": 1.0, "nanometer": 1.0, "nanometers": 1.0, "nanometre": 1.0,
                      "nanometres": 1.0, "µm": 1e3, "μm": 1e3, "um": 1e3, "micron": 1e3,
                      "microns": 1e3, "å": 0.1, "a": 0.1, "angstrom": 0.1, "angstroms": 0.1,
                      "pm": 1e-3, "mm": 1e6, "m": 1e9, "meter": 1e9, "meters": 1e9,
                      "metre": 1e9, "metres": 1e9}
# TIFF ResolutionUnit codes -> nanometres per unit (4 and 5 are common non-baseline extensions).
_RESUNIT_NM = {2: 2.54e7, 3: 1e7, 4: 1e6, 5: 1e3}


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def plausible_magnification(value) -> Optional[float]:
    """``value`` as a float when it is a usable magnification, else None (never raises)."""
    try:
        mag = float(value)
        if not math.isfinite(mag):
            return None
        return units.check_magnification(mag)
    except (TypeError, ValueError):
        return None


def plausible_pixel_size(nm) -> Optional[float]:
    """``nm`` as a float when it is a pixel size a TEM magnification could give, else None."""
    try:
        nm = float(nm)
        if not (math.isfinite(nm) and nm > 0):
            return None
        units.check_magnification(units.magnification_from_pixel_size(nm))
        return nm
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return None


def square_pixel_size(width_nm, height_nm) -> Optional[float]:
    """The pixel size in nm when a pixel's width and height agree within 0.1% and the size is
    plausible (:func:`plausible_pixel_size`), else None: non-square pixels have no single
    size."""
    try:
        width, height = float(width_nm), float(height_nm)
    except (TypeError, ValueError):
        return None
    if not math.isclose(width, height, rel_tol=1e-3):
        return None
    return plausible_pixel_size(width)


def _json_scale(text: str) -> tuple[Optional[float], Optional[float]]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    return scale_from_mapping(data)


def scale_from_mapping(data) -> tuple[Optional[float], Optional[float]]:
    """(magnification, nm per pixel) from a mapping with the keys ``magnification`` (a number
    or text such as ``"30000x"`` / ``"30kx"``) and ``pixel_size_nm`` (a number or text), any
    letter case; None for a key that is absent or implausible."""
    keys = {str(k).strip().lower(): v for k, v in data.items()}
    mag = keys.get("magnification")
    if isinstance(mag, str):
        found = re.search(_NUMBER + r"\s*(k)?", mag)
        mag = _number(found.group(1)) * (1000 if found.group(2) else 1) if found else None
    size = keys.get("pixel_size_nm")
    if isinstance(size, str):
        found = re.search(_NUMBER, size)
        size = _number(found.group(1)) if found else None
    if isinstance(mag, bool) or isinstance(size, bool):
        return None, None
    return plausible_magnification(mag), plausible_pixel_size(size)


def parse_scale_text(text: str) -> tuple[Optional[float], Optional[float]]:
    """(magnification, nm per pixel) stated in a description text, each None when absent.

    Understands a JSON object with keys ``magnification`` / ``pixel_size_nm`` and free text
    such as ``Direct Mag: 30000x``, ``Mag: 30kx``, ``Magnification: 30,000``,
    ``Cal: 0.561 nm/pix``, ``Pixel size: 5.61 A`` or ``pixel_size_nm: 0.561``. A pixel size
    needs a length unit unless its key says nm. Implausible values are ignored.
    """
    if not text:
        return None, None
    text = str(text)
    if text.lstrip().startswith("{"):
        mag, size = _json_scale(text)
        if mag is not None or size is not None:
            return mag, size
    mag = size = None
    for found in _MAG_RE.finditer(text):
        value = _number(found.group(1)) * (1000.0 if found.group(2) else 1.0)
        mag = plausible_magnification(value)
        if mag is not None:
            break
    for found in _SIZE_RE.finditer(text):
        key, unit = found.group(1).lower(), (found.group(3) or "").lower()
        if not unit:
            if "nm" not in key:
                continue
            unit = "nm"
        size = plausible_pixel_size(_number(found.group(2)) * NM_PER_LENGTH_UNIT[unit])
        if size is not None:
            break
    return mag, size


def pixel_size_from_resolution(per_unit, unit_code) -> Optional[float]:
    """nm per pixel from a TIFF XResolution (pixels per unit) and ResolutionUnit code.

    None for no unit, the meaningless defaults (1 pixel per unit, 72 or 96 dpi) and any value
    that no TEM magnification could produce.
    """
    try:
        per_unit = float(per_unit)
        unit_nm = _RESUNIT_NM.get(int(unit_code))
    except (TypeError, ValueError):
        return None
    if unit_nm is None or not (math.isfinite(per_unit) and per_unit > 1.0):
        return None
    # six significant digits: a TIFF rational holds ~7, so 0.561 nm is stored as 0.56099999999
    return plausible_pixel_size(float(f"{unit_nm / per_unit:.6g}"))


def combine_scale(texts: Iterable[str], resolution_nm: Optional[float] = None
                  ) -> tuple[Optional[float], Optional[float]]:
    """(magnification, nm per pixel) stated by description texts, then a resolution tag.

    The first text stating a value wins; the resolution tag gives the pixel size when no text
    states one, or when it agrees with the text's within 1% (the text is often rounded). Only
    what the file states is returned (None for the rest): turning a magnification into a pixel
    size needs the camera's calibration, which :mod:`temnet_app.core.scale` applies.
    """
    mag = size = None
    for text in texts:
        text_mag, text_size = parse_scale_text(text)
        mag = mag if mag is not None else text_mag
        size = size if size is not None else text_size
    if size is None or (resolution_nm is not None and abs(resolution_nm - size) <= 0.01 * size):
        size = resolution_nm    # a rounded "Cal: 0.842 nm/pix" next to an exact resolution tag
    return mag, size
