"""FEI / Thermo Fisher TIA micrographs: a ``.ser`` data file and its ``.emi`` companion, read
with rosettasciio.

TIA saves one acquisition as ``name.emi`` (the settings and the microscope's state, as XML
inside a binary file) and ``name_1.ser`` (the data; ``name_2.ser`` ... when several detectors
recorded at once). The ``.ser`` file is the micrograph: a folder scan adds it (not the
``.emi``, so that an acquisition is not counted twice) and the project checksums it.
Reading it uses the ``.emi`` beside it, when that ``.emi`` belongs to this one ``.ser``
only, for the magnification (TIA's ``Magnification``, the nominal value) and the mode (an
image taken in diffraction has axes in 1/nm and is refused). Opening an ``.emi`` opens its
``_N.ser`` file; when it has several, the user must pick one.

Only one 2-D image is accepted. The SER header is checked first, before rsciio reads (and
allocates) anything: a series (a stack, a line scan or a map of images), spectra, an
oversized or truncated image are refused in one line. The pixel size is the element's
calibration (CalibrationDelta, metres). rsciio reads a SER file's pixel data even with
``lazy=True``, so :func:`read_info` on a SER file decodes it too (after those checks).
"""

from __future__ import annotations

import os
import re
import struct
from glob import glob
from pathlib import Path
from typing import Optional

import numpy as np

from temnet_app.core.errors import MicrographError
from temnet_app.core.micrographs.rsciio_images import (call_reader, image_axes, nested,
                                                       pixel_size_from_axes, shape_text)
from temnet_app.core.micrographs.source import (SourceImage, check_dtype, check_size, fail,
                                                plausible_magnification)

SER_MAGIC = b"II\x97\x01"          # byte order 0x4949, series id 0x0197 (little-endian)
_IMAGE_ELEMENTS = 0x4122
_SPECTRUM_ELEMENTS = 0x4120
_SER_DTYPES = {1: "<u1", 2: "<u2", 3: "<u4", 4: "<i1", 5: "<i2", 6: "<i4", 7: "<f4", 8: "<f8",
               9: "<c8", 10: "<c16"}
_IMAGE_HEAD = struct.Struct("<ddIddIHII")      # calibration x, y; data type; size x, y
_WHAT = "TIA SER"
_SER_NAME = re.compile(r"^(?P<stem>.*)_(?P<index>[0-9]+)\.ser$", re.IGNORECASE)


def looks_like_ser(head: bytes) -> bool:
    return head.startswith(SER_MAGIC)


def _ser_image_header(path: Path, max_pixels: int) -> tuple[np.dtype, int, int]:
    """(pixel dtype, height, width) of the one 2-D image of a SER file, from its header.

    Raises MicrographError for anything but one 2-D image of a usable size in a complete
    file."""
    with open(path, "rb") as handle:
        head = handle.read(34)
        if len(head) < 30:
            raise fail(path, "the SER file is truncated (incomplete header)")
        version, kind, _tag, _total, valid = struct.unpack("<HIIII", head[4:22])
        offset = struct.Struct("<Q" if version > 0x0210 else "<I")   # 0x0220: 8-byte offsets
        offsets_at = offset.unpack(head[22:22 + offset.size])[0]
        if kind == _SPECTRUM_ELEMENTS:
            what = "a spectrum" if valid == 1 else f"{valid} spectra"
            raise fail(path, f"it holds {what} (1-D data), not an image; open a 2-D "
                             f"micrograph")
        if kind != _IMAGE_ELEMENTS:
            raise fail(path, f"unknown SER data type 0x{kind:04x}")
        if valid == 0:
            raise fail(path, "the SER file holds no data (an empty series)")
        handle.seek(offsets_at)
        raw = handle.read(offset.size)
        if len(raw) < offset.size:
            raise fail(path, "the SER file is truncated (no offset table)")
        element_at = offset.unpack(raw)[0]
        handle.seek(element_at)
        raw = handle.read(_IMAGE_HEAD.size)
    if len(raw) < _IMAGE_HEAD.size:
        raise fail(path, "the SER file is truncated (image header beyond the end of the file)")
    *_, code, width, height = _IMAGE_HEAD.unpack(raw)
    if code not in _SER_DTYPES:
        raise fail(path, f"unknown SER pixel type code {code}")
    dtype = np.dtype(_SER_DTYPES[code])
    if valid > 1:
        raise fail(path, f"it is a series of {valid} images ({shape_text((valid, height, width))}"
                         f"): a stack, a line scan or a map; open one 2-D micrograph per file")
    check_dtype(path, dtype)
    check_size(path, height, width, max_pixels)
    end = element_at + _IMAGE_HEAD.size + height * width * dtype.itemsize
    if end > path.stat().st_size:
        raise fail(path, "the SER file is truncated (image data end beyond the end of the file)")
    return dtype, height, width


def _emi_for(ser: Path) -> Optional[Path]:
    """The ``.emi`` beside ``name_N.ser`` (``name.emi``, any case of the suffix), or None."""
    found = _SER_NAME.match(ser.name)
    if not found:
        return None
    wanted = (found.group("stem") + ".emi").lower()
    try:
        names = os.listdir(ser.parent)
    except OSError:
        return None
    for name in names:
        if name.lower() == wanted and (ser.parent / name).is_file():
            return ser.parent / name
    return None


def _file_reader(filename: str) -> list:
    from rsciio.tia import file_reader

    return file_reader(filename)


def _read_with_emi(ser: Path, emi: Path) -> Optional[dict]:
    """rsciio's reading of ``emi`` (settings + data) when it reads exactly ``ser``, else None.

    rsciio's emi reader opens every ``<name>_<digit>.ser`` beside the ``.emi``; it is used
    only when that is this one file, so that a large neighbour (a spectrum image recorded
    with the same .emi) is never read to open this one.
    """
    companions = sorted(glob(os.path.splitext(str(emi))[0] + "_[0-9].ser"))
    if [os.path.normcase(os.path.abspath(c)) for c in companions] != \
            [os.path.normcase(os.path.abspath(ser))]:
        return None
    try:
        entries = call_reader(ser, _WHAT, _file_reader, str(emi))
    except MicrographError:       # a damaged .emi: read the .ser alone (its errors are shown)
        return None
    if len(entries) != 1 or nested(entries[0].get("metadata"), "General",
                                   "original_filename") != ser.name:
        return None
    return entries[0]


def read_ser(path: Path, *, header_only: bool, max_pixels: int) -> SourceImage:
    """Decode the 2-D image of a SER file (plus its .emi's settings). Raises
    MicrographError."""
    try:
        dtype, height, width = _ser_image_header(path, max_pixels)
    except (OSError, struct.error) as exc:
        raise fail(path, f"not a readable {_WHAT} file ({exc})") from None
    emi = _emi_for(path)
    entry = _read_with_emi(path, emi) if emi is not None else None
    if entry is None:
        entries = call_reader(path, _WHAT, _file_reader, str(path))
        if len(entries) != 1:
            raise fail(path, f"it holds {len(entries)} data sets; open one 2-D micrograph per "
                             f"file")
        entry = entries[0]
    data = np.asarray(entry["data"])
    (rows, columns), axes = image_axes(path, data.shape, entry.get("axes") or [])
    if (rows, columns) != (height, width):
        raise fail(path, f"decoded image has shape {(rows, columns)}, expected "
                         f"{(height, width)}")
    magnification = plausible_magnification(nested(
        entry.get("original_metadata"), "ObjectInfo", "ExperimentalDescription",
        "Magnification_x"))
    source = SourceImage(format="ser", dtype=dtype.name, shape=(height, width),
                         height=height, width=width, page_count=1,
                         magnification=magnification,
                         pixel_size_nm=pixel_size_from_axes(path, axes))
    if not header_only:
        source.grey = np.ascontiguousarray(data.reshape(height, width))
    return source


def read_emi(path: Path, *, header_only: bool, max_pixels: int) -> SourceImage:
    """Open the one ``<name>_<N>.ser`` data file of the TIA settings file ``path``."""
    stem = path.name[:-len(path.suffix)]
    try:
        names = sorted(os.listdir(path.parent))
    except OSError as exc:
        raise fail(path, exc.strerror or str(exc)) from None
    pattern = re.compile(re.escape(stem) + r"_[0-9]+\.ser$", re.IGNORECASE)
    sers = [path.parent / n for n in names
            if pattern.match(n) and (path.parent / n).is_file()]
    if not sers:
        raise fail(path, f"its data file {stem}_1.ser is not beside it (an .emi holds TIA's "
                         f"settings; the image is in the .ser file)")
    if len(sers) > 1:
        listed = ", ".join(s.name for s in sers[:4]) + (", ..." if len(sers) > 4 else "")
        raise fail(path, f"it belongs to {len(sers)} data files ({listed}); open the .ser file "
                         f"of the image you want")
    try:
        with open(sers[0], "rb") as handle:
            head = handle.read(len(SER_MAGIC))
    except OSError as exc:
        raise fail(sers[0], exc.strerror or str(exc)) from None
    if not looks_like_ser(head):
        raise fail(path, f"its data file {sers[0].name} is not a TIA SER file")
    return read_ser(sers[0], header_only=header_only, max_pixels=max_pixels)
