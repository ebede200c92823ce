"""Open a micrograph file: TIFF, PNG, JPEG, MRC, DM3 / DM4 or TIA SER -> 2-D uint8 pixels + what
the file says.

Every part of the app opens images through :func:`read_micrograph`. It

* picks the decoder from the file's content (a PNG named ``.tif`` still opens; the suffix
  must be one of :data:`SUPPORTED_SUFFIXES`): :mod:`.tiff` (tifffile), :mod:`.pillow` (PNG,
  JPEG), :mod:`.mrc` (mrcfile), :mod:`.gatan` (DM3 / DM4) and :mod:`.tia` (SER, and the
  ``.emi`` that opens its SER file) through rosettasciio;
* checks the header (size, pixel type, 3-D stacks) before decoding any pixel data;
* turns colour into grey (BT.601 luminance) and keeps 8-bit grey exactly as stored;
* crops the microscope's white info band off the bottom (:mod:`.info_band`), measured in
  source units before any stretch;
* maps deeper sources to 8 bits with the 0.5 / 99.5 percentile stretch of
  :mod:`.intensity`, computed on the cropped image;
* reads the magnification and pixel size from the file's metadata (:mod:`.source`).

Pages and stacks are handled as in :mod:`.tiff`: the first page is the image; a
Z/T stack, or more than four planes, is refused as a 3-D volume. Every failure is a
:class:`~temnet_app.core.errors.MicrographError` with one line naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

from temnet_app.core.micrographs.gatan import DM_HEAD_BYTES, dm_version
from temnet_app.core.micrographs.info_band import detect_info_band
from temnet_app.core.micrographs.intensity import to_uint8
from temnet_app.core.micrographs.mrc import MRC_MAGIC_OFFSET, looks_like_mrc
from temnet_app.core.micrographs.source import DEFAULT_MAX_PIXELS, MIN_SIDE, SourceImage, fail
from temnet_app.core.micrographs.tia import looks_like_ser

__all__ = ["DEFAULT_MAX_PIXELS", "FORMAT_LIST", "MICROGRAPH_SUFFIXES", "SUPPORTED_SUFFIXES",
           "LoadedMicrograph", "MicrographInfo", "is_micrograph_file", "read_info",
           "read_micrograph"]

PathLike = Union[str, os.PathLike]

# what read_micrograph opens (any case)
SUPPORTED_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".mrc", ".dm3", ".dm4", ".ser",
                      ".emi")
# the files that are micrographs of their own: all but TIA's .emi, the settings file that
# opens its .ser (a folder holding name.emi and name_1.ser has one micrograph, not two)
MICROGRAPH_SUFFIXES = tuple(s for s in SUPPORTED_SUFFIXES if s != ".emi")
FORMAT_LIST = "TIFF, PNG, JPEG, MRC, DM3/DM4, SER"     # for messages
_FORMAT_NAMES = ("TIFF (.tif, .tiff), PNG (.png), JPEG (.jpg, .jpeg), MRC (.mrc), "
                 "DigitalMicrograph (.dm3, .dm4) or TIA (.ser, .emi)")
_MAGIC = ((b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"II+\x00", "tiff"),
          (b"MM\x00+", "tiff"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"))


@dataclass(frozen=True)
class MicrographInfo:
    """What was read from a micrograph file.

    ``format``: "tiff", "png", "jpeg", "mrc", "dm3", "dm4" or "ser" (also for an ``.emi``,
    which opens its SER file). ``source_dtype`` / ``source_shape``: the first page as stored
    (e.g. "uint16", (2672, 4008) or (H, W, 3) for colour). ``width`` / ``height``: the
    returned pixels (after the band crop). ``magnification`` (x, the nominal value) and
    ``pixel_size_nm`` are what the file's metadata state, each None when absent.
    ``band_rows``: rows cropped off the bottom as the info band (0 if none or not looked
    for). ``stretch``: the source range (lo, hi) mapped to 0..255, None for 8-bit sources.
    """

    path: Path
    format: str
    source_dtype: str
    source_shape: tuple
    width: int
    height: int
    page_count: int
    magnification: Optional[float]
    pixel_size_nm: Optional[float]
    band_rows: int
    stretch: Optional[tuple[float, float]]


@dataclass(frozen=True, eq=False)
class LoadedMicrograph:
    """A decoded micrograph: ``pixels`` is a 2-D C-contiguous uint8 array (rows = y)."""

    pixels: np.ndarray
    info: MicrographInfo


def is_micrograph_file(path: PathLike) -> bool:
    """True when ``path`` has a micrograph suffix (:data:`MICROGRAPH_SUFFIXES`,
    case-insensitive) and is not a hidden file (names starting with "." such as macOS
    ``._name.tif`` companions are skipped). A TIA ``.emi`` is not one: its ``.ser`` file is
    (:func:`read_micrograph` still opens an ``.emi`` given by name)."""
    name = Path(path).name
    return not name.startswith(".") and Path(name).suffix.lower() in MICROGRAPH_SUFFIXES


def _sniff(path: Path) -> str:
    """Format of ``path`` from its first bytes, after the checks a user can act on."""
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:
        raise fail(path, exc.strerror or str(exc)) from exc
    if not exists:
        raise fail(path, "file not found")
    if is_dir:
        raise fail(path, "it is a folder, not an image file")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise fail(path, f"unsupported file type {path.suffix or '(no suffix)'!r}; "
                         f"supported: {_FORMAT_NAMES}")
    try:
        if path.stat().st_size == 0:
            raise fail(path, "the file is empty (0 bytes)")
        with open(path, "rb") as handle:
            head = handle.read(max(MRC_MAGIC_OFFSET + 4, DM_HEAD_BYTES))
    except OSError as exc:
        raise fail(path, exc.strerror or str(exc)) from exc
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if looks_like_ser(head):
        return "ser"
    version = dm_version(head)
    if version is not None:
        return f"dm{version}"
    if looks_like_mrc(head):
        return "mrc"
    if path.suffix.lower() == ".emi":     # binary settings with XML inside: no magic number
        return "emi"
    looks_like_text = all(b in b"\t\n\r" or 32 <= b < 127 for b in head[:16])
    what = "it holds text" if looks_like_text else "its content is not a known image format"
    raise fail(path, f"not a TIFF, PNG, JPEG or MRC image, nor a DigitalMicrograph (DM3, DM4) or "
                     f"TIA (SER) file ({what}) despite the {path.suffix!r} suffix")


def _read_source(path: PathLike, header_only: bool, max_pixels: int) -> SourceImage:
    path = Path(path)
    fmt = _sniff(path)
    if fmt == "tiff":
        from temnet_app.core.micrographs.tiff import read_tiff
        return read_tiff(path, header_only=header_only, max_pixels=max_pixels)
    if fmt == "mrc":
        from temnet_app.core.micrographs.mrc import read_mrc
        return read_mrc(path, header_only=header_only, max_pixels=max_pixels)
    if fmt in ("dm3", "dm4"):
        from temnet_app.core.micrographs.gatan import read_dm
        return read_dm(path, fmt, header_only=header_only, max_pixels=max_pixels)
    if fmt == "ser":
        from temnet_app.core.micrographs.tia import read_ser
        return read_ser(path, header_only=header_only, max_pixels=max_pixels)
    if fmt == "emi":
        from temnet_app.core.micrographs.tia import read_emi
        return read_emi(path, header_only=header_only, max_pixels=max_pixels)
    from temnet_app.core.micrographs.pillow import read_pillow
    return read_pillow(path, fmt, header_only=header_only, max_pixels=max_pixels)


def read_micrograph(path: PathLike, *, crop_band: bool = True,
                    max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedMicrograph:
    """Decode ``path`` into 2-D uint8 pixels plus :class:`MicrographInfo`.

    ``crop_band`` removes a detected microscope info band from the bottom (band_rows says
    how many rows). Images with more than ``max_pixels`` pixels are refused from the header,
    before any pixel data are decoded. Raises MicrographError on any unusable input.
    """
    path = Path(path)
    source = _read_source(path, header_only=False, max_pixels=max_pixels)
    grey = source.grey
    band_rows = detect_info_band(grey) if crop_band else 0
    if grey.shape[0] - band_rows < MIN_SIDE:
        band_rows = 0
    if band_rows:
        grey = grey[:grey.shape[0] - band_rows]
    try:
        pixels, stretch = to_uint8(grey)
    except ValueError as exc:
        raise fail(path, str(exc)) from None
    except MemoryError:
        raise fail(path, "not enough memory to convert the image to 8 bits") from None
    pixels = np.ascontiguousarray(pixels)
    info = MicrographInfo(path=path, format=source.format, source_dtype=source.dtype,
                          source_shape=tuple(source.shape), width=int(pixels.shape[1]),
                          height=int(pixels.shape[0]), page_count=source.page_count,
                          magnification=source.magnification,
                          pixel_size_nm=source.pixel_size_nm, band_rows=int(band_rows),
                          stretch=stretch)
    return LoadedMicrograph(pixels=pixels, info=info)


def read_info(path: PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> MicrographInfo:
    """Size and metadata of ``path`` from its header only (no pixel data are decoded).

    The same checks as :func:`read_micrograph` except those that need pixels (truncated
    data, undecodable data). Because the info band and the stretch need the pixels,
    ``width`` / ``height`` are the stored size (band not removed), ``band_rows`` is 0 and
    ``stretch`` is None; use :func:`read_micrograph` for those.
    """
    path = Path(path)
    source = _read_source(path, header_only=True, max_pixels=max_pixels)
    return MicrographInfo(path=path, format=source.format, source_dtype=source.dtype,
                          source_shape=tuple(source.shape), width=source.width,
                          height=source.height, page_count=source.page_count,
                          magnification=source.magnification,
                          pixel_size_nm=source.pixel_size_nm, band_rows=0, stretch=None)
