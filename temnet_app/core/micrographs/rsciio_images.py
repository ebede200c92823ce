"""From what rosettasciio's readers return to one 2-D micrograph (shared by :mod:`.gatan` and
:mod:`.tia`).

An rsciio ``file_reader`` returns one dict per data set in the file: ``data`` (a numpy array,
or a dask array with ``lazy=True``), ``axes`` (one dict per array axis, in array order, with
``size``, ``scale``, ``units`` and ``navigate``), ``metadata`` and ``original_metadata`` (the
file's own tags). Here:

* size-1 axes are dropped, then anything but one 2-D image is refused in one line (a 1-D
  spectrum, a 3-D stack or spectrum image, a line of spectra);
* the pixel size comes from the two image axes when both are calibrated in a length unit
  (nm, µm / um, Å / A, pm, mm, m) and agree; uncalibrated axes ("" or pixels), other units
  and non-square pixels give no pixel size;
* axes in a reciprocal length (1/nm, 1/Å, nm^-1: a diffraction pattern or an FFT) are
  refused: such an image shows no virions;
* every exception of rsciio (or of numpy and dask underneath) becomes a one-line
  :class:`~temnet_app.core.errors.MicrographError` naming the file.

rsciio is imported only when a file is read (it pulls in dask); its logger writes warnings to
stdout, which is detached here so that they reach the program's log instead.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from temnet_app.core.errors import MicrographError
from temnet_app.core.micrographs.source import NM_PER_LENGTH_UNIT, fail, square_pixel_size

_ENERGY_UNITS = {"ev", "kev", "mev"}
_quieted = False


def quiet_rsciio_logger() -> None:
    """Detach the stdout handler rsciio installs on its logger (once per process)."""
    global _quieted
    if _quieted:
        return
    logger = logging.getLogger("rsciio")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    _quieted = True


def call_reader(path: Path, what: str, reader: Callable, *args, **kwargs) -> Any:
    """``reader(*args, **kwargs)`` with rsciio's warnings silenced and every failure turned
    into a one-line MicrographError (``what`` names the format, e.g. "DigitalMicrograph")."""
    quiet_rsciio_logger()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return reader(*args, **kwargs)
    except MicrographError:
        raise
    except MemoryError:
        raise fail(path, "not enough memory to decode the image") from None
    except ImportError as exc:       # an incomplete install or bundle, not a damaged file
        raise fail(path, f"{what} files need the optional reader rosettasciio (GPL-3.0), "
                         f"which this installation does not include: save the image as TIFF "
                         f"or MRC, or install it with pip install 'temnet-app[formats]' "
                         f"({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # rsciio raises anything from IOError to KeyError on bad files
        raise fail(path, f"not a readable {what} file; it may be truncated or damaged "
                         f"({type(exc).__name__}: {exc})") from None


def shape_text(shape: Sequence[int]) -> str:
    """``(N, H, W)`` as "W x H x N" (x first, as MRC and DM list them)."""
    return " x ".join(str(int(s)) for s in reversed(tuple(shape)))


def _unit(axis: Mapping) -> str:
    return " ".join(str(axis.get("units") or "").split())


def is_reciprocal(unit: str) -> bool:
    """True for a reciprocal length unit such as "1/nm", "1 / nm", "nm^-1" or "1/Å"."""
    compact = unit.replace(" ", "").lower()
    return compact.startswith("1/") or compact.endswith("^-1") or compact.endswith("-1")


def image_axes(path: Path, shape: Sequence[int], axes: Sequence[Mapping],
               signal_type: str = "") -> tuple[tuple[int, int], list[Mapping]]:
    """((height, width), [y axis, x axis]) of the one 2-D image in a data set of ``shape``.

    Size-1 axes are dropped first. ``signal_type`` is rsciio's (e.g. "EELS", "EDS_TEM",
    "CL"); data of such a type, or with an energy axis, are spectra whatever their shape.
    The axis list is empty when rsciio's axes do not match the shape.
    """
    shape = tuple(int(s) for s in shape)
    paired = len(axes) == len(shape)
    kept = [(size, axes[i] if paired else {}) for i, size in enumerate(shape) if size != 1]
    sizes = tuple(size for size, _ in kept)
    units = [_unit(axis).lower() for _, axis in kept]
    spectral = bool(signal_type) or any(u in _ENERGY_UNITS for u in units)
    label = f"{signal_type} " if signal_type else ""
    if len(sizes) <= 1:
        points = sizes[0] if sizes else 1
        raise fail(path, f"it holds a 1-D {label}spectrum or profile of {points} points, not "
                         f"an image; open a 2-D micrograph")
    if spectral:
        raise fail(path, f"it holds {label}spectra ({shape_text(sizes)}), not a micrograph; "
                         f"open a 2-D image")
    if len(sizes) == 3:
        raise fail(path, f"it is a 3-D stack of {sizes[0]} images ({shape_text(sizes)}); open "
                         f"one 2-D micrograph per file")
    if len(sizes) > 3:
        raise fail(path, f"it is a {len(sizes)}-D data set ({shape_text(sizes)}); open one 2-D "
                         f"micrograph per file")
    if any(axis.get("navigate") for _, axis in kept):
        raise fail(path, f"it holds a series of {sizes[0]} data sets ({shape_text(sizes)}), "
                         f"not one image; open a 2-D micrograph")
    return (sizes[0], sizes[1]), [axis for _, axis in kept] if paired else []


def pixel_size_from_axes(path: Path, image_axes_: Sequence[Mapping]) -> Optional[float]:
    """nm per pixel from the [y, x] image axes, or None (see the module docstring).

    Raises MicrographError when an axis is in a reciprocal length (diffraction, FFT)."""
    if len(image_axes_) != 2:
        return None
    sizes = []
    for axis in image_axes_:
        unit = _unit(axis)
        if is_reciprocal(unit):
            raise fail(path, f"it is a diffraction pattern or an FFT (axes in {unit}), not a "
                             f"micrograph")
        per_unit = NM_PER_LENGTH_UNIT.get(unit.lower())
        try:
            scale = abs(float(axis.get("scale")))
        except (TypeError, ValueError):
            return None
        if per_unit is None or not (math.isfinite(scale) and scale > 0):
            return None
        sizes.append(scale * per_unit)
    return square_pixel_size(sizes[1], sizes[0])       # x, y; non-square pixels: None


def nested(tree: Any, *keys: str) -> Any:
    """``tree[k1][k2]...`` or None when a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(tree, Mapping) or key not in tree:
            return None
        tree = tree[key]
    return tree
