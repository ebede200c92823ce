"""Minimal writers of Gatan DigitalMicrograph (DM3, DM4) and FEI/Thermo TIA (SER + EMI) files
for the reader tests. rosettasciio reads these formats but cannot write them, and real sample
files are not shipped, so the tests make their own from the published format descriptions.

DM3 / DM4 (big-endian header and tag structure, little-endian values): a header (version,
length, byte order), then a tree of tag groups and data tags. Each data tag is ``%%%%``, the
length of its type description, the description (simple type, string, or array of a simple
type) and the value. DM4 widens the header length, the tag counts and the type descriptions to
8 bytes and puts each tag's byte count after its name. The image is
``ImageList/<n>/ImageData`` (``Data``, ``DataType``, ``Dimensions``, ``Calibrations``); the
microscope's settings are in ``ImageList/<n>/ImageTags/Microscope Info``.

SER (all little-endian): a header (byte order 0x4949, series id 0x0197, version 0x0210 with
4-byte offsets or 0x0220 with 8-byte offsets, data type 0x4122 for 2-D elements or 0x4120 for
1-D, tag type 0x4152 for time-only tags, element counts, the offset of the offset arrays, the
number of dimensions and their descriptions), then per element a data block (calibration in
metres, data type, size, pixels with the bottom row first) and a tag block; the arrays of data
and tag offsets sit between the header and the elements. The EMI companion is binary with one
``<ObjectInfo>`` XML block per SER file; the writer here keeps only that XML (the part the
readers look at).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

# ------------------------------------------------------------------------------ DM3 / DM4

_DM_SHORT, _DM_LONG, _DM_USHORT, _DM_ULONG = 2, 3, 4, 5
_DM_FLOAT, _DM_DOUBLE, _DM_BOOL, _DM_OCTET = 6, 7, 8, 10
_DM_ARRAY = 20
# numpy dtype -> (DM image DataType, DM element type of the Data array)
_DM_IMAGE_TYPES = {
    "int16": (1, _DM_SHORT), "float32": (2, _DM_FLOAT), "uint8": (6, _DM_OCTET),
    "int32": (7, _DM_LONG), "int8": (9, 9), "uint16": (10, _DM_USHORT),
    "uint32": (11, _DM_ULONG), "float64": (12, _DM_DOUBLE),
}
_DM_VALUE_CODES = {_DM_SHORT: "h", _DM_LONG: "i", _DM_USHORT: "H", _DM_ULONG: "I",
                   _DM_FLOAT: "f", _DM_DOUBLE: "d", _DM_BOOL: "?", _DM_OCTET: "B", 9: "b"}


class DMArray:
    """A DM array tag: raw little-endian ``payload`` of ``count`` elements of ``element``."""

    def __init__(self, element: int, count: int, payload: bytes):
        self.element, self.count, self.payload = element, count, payload


def _dm_value(value) -> tuple[list[int], bytes]:
    """(type description, little-endian bytes) of a tag value."""
    if isinstance(value, DMArray):
        return [_DM_ARRAY, value.element, value.count], value.payload
    if isinstance(value, str):           # DM strings are arrays of 16-bit characters
        return [_DM_ARRAY, _DM_USHORT, len(value)], value.encode("utf-16-le")
    if isinstance(value, bool):
        return [_DM_BOOL], struct.pack("<?", value)
    if isinstance(value, int):
        return [_DM_LONG], struct.pack("<i", value)
    if isinstance(value, float):
        return [_DM_DOUBLE], struct.pack("<d", value)
    kind, number = value                 # (DM type code, number) for other simple types
    return [kind], struct.pack("<" + _DM_VALUE_CODES[kind], number)


def _dm_group(items: Sequence[tuple[str, object]], version: int) -> bytes:
    """A tag group: sorted and open flags, tag count, then the tags (a list value = group)."""
    wide = ">q" if version == 4 else ">i"
    out = bytearray(b"\x00\x01" + struct.pack(wide, len(items)))
    for name, value in items:
        raw_name = name.encode("latin-1")
        is_group = isinstance(value, list)
        head = struct.pack(">bh", 20 if is_group else 21, len(raw_name)) + raw_name
        if is_group:
            body = _dm_group(value, version)
        else:
            description, payload = _dm_value(value)
            body = (b"%%%%" + struct.pack(wide, len(description))
                    + b"".join(struct.pack(wide, d) for d in description) + payload)
        if version == 4:
            head += struct.pack(">q", len(body))
        out += head + body
    return bytes(out)


def _calibration(scale: float, units: str) -> list:
    return [("Origin", (_DM_FLOAT, 0.0)), ("Scale", (_DM_FLOAT, scale)), ("Units", units)]


def dm_image_group(data: np.ndarray, *, scale: float = 1.0, units: str = "",
                   image_tags: Optional[list] = None, name: str = "micrograph") -> list:
    """The tag group of one image in ``ImageList`` (``data`` is (H, W) or (N, H, W)).

    Groups are lists of (name, value) pairs (DM's tag names may repeat: unnamed tags are "");
    a value is a list (a group), a str, bool, int (int32), float (double), a (DM type code,
    number) pair or a :class:`DMArray`.
    """
    data = np.ascontiguousarray(data)
    data_type, element = _DM_IMAGE_TYPES[data.dtype.name]
    dims = data.shape[::-1]                                  # DM lists x, y, z
    dimension = [("", _calibration(scale, units)), ("", _calibration(scale, units))]
    dimension += [("", _calibration(1.0, ""))] * (len(dims) - 2)
    calibrations = [("Brightness", _calibration(1.0, "counts")), ("Dimension", dimension),
                    ("DisplayCalibratedUnits", True)]
    pixels = data.astype(data.dtype.newbyteorder("<")).tobytes()
    image_data = [("Calibrations", calibrations),
                  ("Data", DMArray(element, data.size, pixels)),
                  ("DataType", data_type),
                  ("Dimensions", [("", (_DM_ULONG, d)) for d in dims]),
                  ("PixelDepth", data.dtype.itemsize)]
    return [("ImageData", image_data), ("ImageTags", image_tags or []), ("Name", name),
            ("UniqueID", [("", 1), ("", 2), ("", 3), ("", 4)])]


def dm_rgba_group(rgba: np.ndarray, name: str = "colour") -> list:
    """The tag group of an (H, W, 4) uint8 RGBA image (DataType 23: 4 bytes per pixel, stored
    B, G, R, A), the type DigitalMicrograph uses for colour images and previews."""
    height, width, _ = rgba.shape
    stored = np.ascontiguousarray(rgba[..., [2, 1, 0, 3]].astype(np.uint8))
    image_data = [("Calibrations", [("Brightness", _calibration(1.0, "")),
                                    ("Dimension", [("", _calibration(1.0, "")),
                                                   ("", _calibration(1.0, ""))])]),
                  ("Data", DMArray(_DM_ULONG, height * width, stored.tobytes())),
                  ("DataType", 23),
                  ("Dimensions", [("", (_DM_ULONG, width)), ("", (_DM_ULONG, height))]),
                  ("PixelDepth", 4)]
    return [("ImageData", image_data), ("ImageTags", []), ("Name", name)]


def microscope_tags(indicated: Optional[float] = None, actual: Optional[float] = None,
                    imaging_mode: str = "IMAGING", illumination: str = "TEM") -> list:
    """``ImageTags`` with a ``Microscope Info`` group as DM writes it on a TEM."""
    info: list = [("Illumination Mode", illumination), ("Imaging Mode", imaging_mode),
                  ("Voltage", 120000.0), ("Name", "Test TEM")]
    if indicated is not None:
        info.append(("Indicated Magnification", float(indicated)))
    if actual is not None:
        info.append(("Actual Magnification", float(actual)))
    return [("Microscope Info", info), ("Session Info", [("Operator", "tester")])]


def write_dm(path: Path, data, *, version: int = 3, scale: float = 1.0,
             units: str = "", image_tags: Optional[list] = None,
             thumbnail: bool = True, extra_images: Sequence[list] = (),
             first_images: Sequence[list] = ()) -> Path:
    """Write a DM3 (``version=3``) or DM4 file holding ``data`` (2-D, or 3-D for a stack; or
    an image group already made, e.g. by :func:`dm_rgba_group`).

    ``scale`` / ``units``: the calibration of the x and y axes. ``thumbnail`` puts a small
    8-bit preview first in ``ImageList`` (as DigitalMicrograph does) and lists it under
    ``Thumbnails``, so readers must skip it. ``first_images`` / ``extra_images``: more image
    groups (from :func:`dm_image_group`, :func:`dm_rgba_group`) before / after the main one.
    """
    images = list(first_images)
    if thumbnail:
        images.append(dm_image_group(np.full((16, 20), 7, np.uint8), name="thumb"))
    images.append(data if isinstance(data, list) else
                  dm_image_group(data, scale=scale, units=units, image_tags=image_tags))
    images.extend(extra_images)
    root = [("ApplicationBounds", DMArray(_DM_LONG, 4, struct.pack("<4i", 0, 0, 600, 800))),
            ("ImageList", [("", group) for group in images])]
    if thumbnail:
        root.append(("Thumbnails", [("", [("ImageIndex", len(first_images))])]))
    body = _dm_group(root, version)
    if version == 4:
        header = struct.pack(">iqi", 4, len(body) + 16, 1)
        tail = b"\x00" * 16
    else:
        header = struct.pack(">iIi", 3, len(body) + 8, 1)
        tail = b"\x00" * 8
    path = Path(path)
    path.write_bytes(header + body + tail)
    return path


# ------------------------------------------------------------------------------- SER / EMI

_SER_TYPES = {"uint8": 1, "uint16": 2, "uint32": 3, "int8": 4, "int16": 5, "int32": 6,
              "float32": 7, "float64": 8, "complex64": 9, "complex128": 10}
SER_IMAGE, SER_SPECTRUM = 0x4122, 0x4120
_SER_TIME_TAG = 0x4152


def write_ser(path: Path, images, *, pixel_m: float = 1.0, version: int = 0x0210,
              kind: int = SER_IMAGE) -> Path:
    """Write a TIA SER file with one element per image in ``images`` (a 2-D array, or a
    sequence of them for a series; 1-D arrays with ``kind=SER_SPECTRUM``). ``pixel_m``: the
    CalibrationDelta of both axes in metres. Rows are stored bottom row first, as TIA does."""
    if isinstance(images, np.ndarray) and images.ndim == (2 if kind == SER_IMAGE else 1):
        images = [images]
    images = [np.ascontiguousarray(a) for a in images]
    wide = version >= 0x0220
    offset_code = "<Q" if wide else "<I"
    count = len(images)
    description, units = b"Number", b""
    dimension = (struct.pack("<IddI", count, 0.0, 1.0, 0) + struct.pack("<I", len(description))
                 + description + struct.pack("<I", len(units)) + units)
    # the offset arrays (data, then tags) follow the dimension description; elements follow
    array_offset = (34 if wide else 30) + len(dimension)
    first = array_offset + 2 * count * struct.calcsize(offset_code)
    blocks, offsets, tag_offsets = bytearray(), [], []
    for image in images:
        offsets.append(first + len(blocks))
        code = _SER_TYPES[image.dtype.name]
        pixels = image.astype(image.dtype.newbyteorder("<"))
        if kind == SER_IMAGE:
            height, width = image.shape
            blocks += struct.pack("<ddIddIHII", 0.0, pixel_m, 0, 0.0, pixel_m, 0, code,
                                  width, height)
            blocks += np.flipud(pixels).tobytes()
        else:
            blocks += struct.pack("<ddIHI", 0.0, 1.0, 0, code, image.size) + pixels.tobytes()
        tag_offsets.append(first + len(blocks))
        blocks += struct.pack("<HHI", _SER_TIME_TAG, 0, 1_700_000_000)
    header = struct.pack("<HHHIIII", 0x4949, 0x0197, version, kind, _SER_TIME_TAG, count, count)
    header += struct.pack(offset_code, array_offset) + struct.pack("<I", 1)
    arrays = b"".join(struct.pack(offset_code, o) for o in offsets + tag_offsets)
    path = Path(path)
    path.write_bytes(header + dimension + arrays + bytes(blocks))
    return path


def emi_object_xml(magnification: Optional[float] = None, mode: str = "TEM Image",
                   camera: bool = True) -> str:
    """One ``<ObjectInfo>`` block as TIA writes it into an EMI file (the parts read here)."""
    rows = [("Microscope", "Tecnai Test", ""), ("Mode", mode, ""),
            ("High tension", "120.0", "kV")]
    if magnification is not None:
        rows.append(("Magnification", f"{magnification:g}", "x"))
    data = "".join(f"<Data><Label>{label}</Label><Value>{value}</Value><Unit>{unit}</Unit>"
                   f"</Data>" for label, value, unit in rows)
    acquire = "<CameraNamePath>BM-Ceta</CameraNamePath>" if camera else \
        "<DetectorRange>HAADF</DetectorRange>"
    return (f"<ObjectInfo><DatabaseId>1</DatabaseId><AcquireDate>Mon Jan 08 10:11:12 2024"
            f"</AcquireDate><AcquireInfo>{acquire}<DwellTimePath>1.0</DwellTimePath>"
            f"</AcquireInfo><ExperimentalDescription><Root>{data}</Root>"
            f"</ExperimentalDescription></ObjectInfo>")


def write_emi(path: Path, objects: Sequence[str]) -> Path:
    """An EMI file: some binary bytes around the ``<ObjectInfo>`` XML blocks."""
    body = b"".join(b"\x00\x17\x01\x00" + o.encode("utf-8") + b"\x00\x00" for o in objects)
    path = Path(path)
    path.write_bytes(b"\x02\x00\x00\x00EMI test\x00" + body + b"\xff" * 16)
    return path
