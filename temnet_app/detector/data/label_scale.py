"""The scale side of labelled micrographs: a folder's default scale (:data:`SCALE_FILE`) and
the warning for labelled boxes that do not measure like virions at their micrograph's scale."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from temnet_app.core.errors import AnnotationError
from temnet_app.core.micrographs.source import parse_scale_text

_log = logging.getLogger(__name__)

SCALE_FILE = "scale.txt"
VIRION_NM = 145.0               # typical HIV-1 particle diameter (TEM_FACTS), for the warning
SIZE_WARNING_FACTOR = 1.6       # median labelled box this far from VIRION_NM: warn


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
    ``LabelledMicrograph``: its ``key``, ``boxes`` and ``pixel_size_nm``) measures more than
    :data:`SIZE_WARNING_FACTOR` times away from :data:`VIRION_NM` at its pixel size."""
    sides = [((b.x2 - b.x1) + (b.y2 - b.y1)) / 2.0 for b in item.boxes]
    if not sides:
        return None
    sides.sort()
    median_px = sides[len(sides) // 2]
    size_nm = median_px * item.pixel_size_nm
    if 1 / SIZE_WARNING_FACTOR <= size_nm / VIRION_NM <= SIZE_WARNING_FACTOR:
        return None
    fits = VIRION_NM / median_px
    where = f" ({origin})" if origin else ""
    message = (f"{item.key}: the labelled boxes measure ~{size_nm:.0f} nm at "
               f"{item.pixel_size_nm:.3g} nm/px{where}, but virions are ~{VIRION_NM:.0f} nm: "
               f"check its scale (about {fits:.3g} nm/px would fit)")
    _log.warning("%s", message)
    return message
