"""The scale side of labelled micrographs: a folder's default scale (:data:`SCALE_FILE`) and
the warning for labelled boxes that do not measure like virions at their micrograph's scale."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from temnet_app.core.errors import AnnotationError
from temnet_app.core.micrographs.source import parse_scale_text
from temnet_app.core.scale_check import VIRION_NM, median_side, size_off

_log = logging.getLogger(__name__)

SCALE_FILE = "scale.txt"


def folder_scale(root: Path, here: Path) -> tuple[Optional[float], Optional[float]]:
    """(pixel size, magnification) of the nearest :data:`SCALE_FILE` from ``here`` up to
    ``root``; (None, None) without one. A file that states no usable scale is an error."""
    folder = here
    while True:
        candidate = folder / SCALE_FILE
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8", errors="replace")
            except OSError as error:
                raise AnnotationError(f"cannot read {candidate}: {error.strerror or error}") \
                    from None
            mag, size = parse_scale_text(text)
            if mag is None and size is None:
                raise AnnotationError(f"{candidate} states no usable scale (expected e.g. "
                                      f'{{"pixel_size_nm": 0.28}} or {{"magnification": 25000}})')
            return size, mag
        if folder == root or folder.parent == folder:
            return None, None
        folder = folder.parent


def warn_if_off_scale(item, origin: str = "") -> Optional[str]:
    """Log (and return) a warning when the median labelled box of ``item`` (a
    ``LabelledMicrograph``: its ``key``, ``boxes`` and ``pixel_size_nm``) is not virion-sized
    at its pixel size (:func:`temnet_app.core.scale_check.size_off`)."""
    median_px = median_side(item.boxes)
    if not size_off(median_px, item.pixel_size_nm):
        return None
    size_nm = median_px * item.pixel_size_nm
    fits = VIRION_NM / median_px
    where = f" ({origin})" if origin else ""
    message = (f"{item.key}: the labelled boxes measure ~{size_nm:.0f} nm at "
               f"{item.pixel_size_nm:.3g} nm/px{where}, but virions are ~{VIRION_NM:.0f} nm: "
               f"check its scale (about {fits:.3g} nm/px would fit)")
    _log.warning("%s", message)
    return message
