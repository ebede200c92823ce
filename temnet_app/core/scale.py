"""The physical scale of a micrograph: which pixel size is used, and where it came from.

The detector works in nanometres per pixel (a virion is ~150 nm whatever the camera). A
magnification is the lab's label for a scale; it becomes a pixel size only through a camera
calibration (the camera's nm/px at one magnification; pixel size scales inversely with
magnification). Without one, the reference calibration of the published data is used: 0.561
nm/px at 30,000x (JEOL 1200EX, AMT 2k CCD).

:func:`resolve_scale` picks the pixel size from, in order: the per-micrograph override (pixel
size, else magnification), the file's calibrated pixel size, the file's nominal
magnification, the experiment's setting (pixel size, else magnification), the default
(30,000x). A stated pixel size always beats a magnification at the same level, and a file's
calibration beats its magnification text: an image exported at half size keeps its "Direct
Mag: 30000x" while its pixels doubled in size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from temnet_app.core import units
from temnet_app.core.errors import MicrographError

# Where a pixel size (or magnification) came from; stored in the project's run provenance.
OVERRIDE = "override"
FILE = "file"
EXPERIMENT = "experiment"
DEFAULT = "default"
DERIVED = "derived"
SOURCES = (OVERRIDE, FILE, EXPERIMENT, DEFAULT)

_SOURCE_WORDS = {OVERRIDE: "set for this micrograph", FILE: "from the file",
                 EXPERIMENT: "experiment setting", DEFAULT: "default",
                 DERIVED: "from the pixel size"}
_STATED_SIZE_WORDS = {OVERRIDE: "set for this micrograph", FILE: "the file's calibration",
                      EXPERIMENT: "the experiment's setting"}


def check_pixel_size(nm) -> float:
    """``nm`` as a float when it is a pixel size some TEM magnification could give (about
    0.017-17 nm/px, the 1,000x-1,000,000x range at the reference calibration), else
    ValueError."""
    try:
        value = float(nm)
    except (TypeError, ValueError):
        raise ValueError(f"pixel size {nm!r} is not a number") from None
    low = units.nm_per_pixel(units.MAX_MAGNIFICATION)
    high = units.nm_per_pixel(units.MIN_MAGNIFICATION)
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"pixel size {nm!r} nm is outside {low:.3g}-{high:.3g} nm per pixel")
    return value


@dataclass(frozen=True)
class CameraCalibration:
    """A camera's pixel size ``pixel_size_nm`` at the nominal ``magnification``."""

    magnification: float
    pixel_size_nm: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "magnification", units.check_magnification(self.magnification))
        object.__setattr__(self, "pixel_size_nm", check_pixel_size(self.pixel_size_nm))

    def pixel_size_at(self, magnification: float) -> float:
        """nm per pixel at ``magnification`` on this camera."""
        magnification = units.check_magnification(magnification)
        return self.pixel_size_nm * self.magnification / magnification

    def magnification_at(self, pixel_size_nm: float) -> float:
        """The nominal magnification that gives ``pixel_size_nm`` on this camera."""
        return self.pixel_size_nm * self.magnification / float(pixel_size_nm)

    @property
    def is_reference(self) -> bool:
        return math.isclose(self.pixel_size_at(units.DEFAULT_MAGNIFICATION),
                            units.NM_PER_PIXEL_AT_DEFAULT, rel_tol=1e-9)

    def describe(self) -> str:
        return f"{self.pixel_size_nm:.4g} nm/px at {self.magnification:,.0f}x"


REFERENCE_CAMERA = CameraCalibration(units.DEFAULT_MAGNIFICATION, units.NM_PER_PIXEL_AT_DEFAULT)


@dataclass(frozen=True)
class Scale:
    """The scale used for one micrograph.

    ``pixel_size_nm`` is what the detector uses; ``pixel_size_source`` says which level gave
    it (:data:`SOURCES`) and ``from_magnification`` whether that level gave a magnification
    that was converted with ``camera``. ``magnification`` is the nominal magnification (the
    lab's label): the first one stated at any level, else derived from the pixel size
    (``magnification_source`` ``"derived"``).
    """

    pixel_size_nm: float
    pixel_size_source: str
    from_magnification: bool
    magnification: float
    magnification_source: str
    camera: CameraCalibration = REFERENCE_CAMERA

    def origin(self) -> str:
        """Where the pixel size came from, e.g. ``the file's calibration`` or ``30,000x from
        the file, at the reference calibration``."""
        if not self.from_magnification:
            return _STATED_SIZE_WORDS[self.pixel_size_source]
        camera = "the reference calibration" if self.camera.is_reference \
            else f"the camera calibration {self.camera.describe()}"
        return f"{self.magnification:,.0f}x {_SOURCE_WORDS[self.pixel_size_source]}, at {camera}"

    def describe_pixel_size(self) -> str:
        """e.g. ``0.280 nm/px (the file's calibration)``."""
        return f"{self.pixel_size_nm:.3f} nm/px ({self.origin()})"

    def describe_magnification(self) -> str:
        """e.g. ``30,000x (from the file)``."""
        return f"{self.magnification:,.0f}x ({_SOURCE_WORDS[self.magnification_source]})"

    def describe(self) -> str:
        return f"{self.describe_pixel_size()}; {self.describe_magnification()}"


def _checked(value, kind: str, source: str) -> Optional[float]:
    if value is None:
        return None
    try:
        if kind == "pixel size":
            return check_pixel_size(value)
        return units.check_magnification(value)
    except (TypeError, ValueError) as exc:
        raise MicrographError(f"invalid {source} {kind} {value!r}: {exc}") from None


def resolve_scale(*, override_pixel_size=None, override_magnification=None,
                  file_pixel_size=None, file_magnification=None,
                  experiment_pixel_size=None, experiment_magnification=None,
                  camera: Optional[CameraCalibration] = None) -> Scale:
    """The :class:`Scale` of a micrograph from every level that may state one.

    Levels in order: override, file, experiment, default (30,000x); at each level a pixel
    size beats a magnification. ``camera`` converts magnifications to pixel sizes (the
    reference calibration when None). An implausible value at the level that is used raises
    MicrographError naming the level.
    """
    camera = camera or REFERENCE_CAMERA
    levels = ((OVERRIDE, override_pixel_size, override_magnification),
              (FILE, file_pixel_size, file_magnification),
              (EXPERIMENT, experiment_pixel_size, experiment_magnification),
              (DEFAULT, None, units.DEFAULT_MAGNIFICATION))
    chosen = None
    label = None
    for source, size, mag in levels:
        if chosen is None:
            size = _checked(size, "pixel size", source)
            mag = _checked(mag, "magnification", source)
            if size is not None:
                chosen = (size, source, False)
            elif mag is not None:
                chosen = (camera.pixel_size_at(mag), source, True)
        if label is None and mag is not None and (source != DEFAULT or chosen[1] == DEFAULT):
            try:
                label = (units.check_magnification(mag), source)
            except (TypeError, ValueError):
                pass
    size, source, from_mag = chosen
    if label is None:       # no magnification stated anywhere: the camera's for this size
        label = (camera.magnification_at(size), DERIVED)
    return Scale(pixel_size_nm=float(size), pixel_size_source=source,
                 from_magnification=from_mag, magnification=float(label[0]),
                 magnification_source=label[1], camera=camera)
