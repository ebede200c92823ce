"""Gatan DigitalMicrograph DM3 / DM4 micrographs, read with rosettasciio.

A DM file is a tree of tags. Its ``ImageList`` holds the image and a small preview that
DigitalMicrograph lists under ``Thumbnails`` (rsciio skips it; an unlisted colour preview
next to one grey image is skipped here). One 2-D image is expected: a stack, a spectrum, a
spectrum image or several images in one file are refused in one line.
Colour (RGBA) images become grey like colour TIFFs; complex (FFT) and binary images are
refused.

Pixel size: the x and y calibration of ``ImageData/Calibrations/Dimension`` (scale and unit,
e.g. 0.42 nm or 4.2 Å) when both axes agree (:mod:`.rsciio_images`); axes in 1/nm (a
diffraction pattern or an FFT) are refused. Magnification: ``ImageTags/Microscope Info/
Indicated Magnification``, the microscope's nominal magnification, except in diffraction
mode (where that tag holds the camera length). ``Actual Magnification`` (at the detector,
the camera's own factor included) is not reported: a camera calibration refers to the
nominal value.

The header is read with rsciio's ``lazy=True`` (tags only, no pixel data), so size and
shape are checked before the pixels are decoded; the pixels come from a second,
non-lazy read.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Optional

import numpy as np

from temnet_app.core.micrographs.intensity import luminance
from temnet_app.core.micrographs.rsciio_images import (call_reader, image_axes, nested,
                                                       pixel_size_from_axes)
from temnet_app.core.micrographs.source import (SourceImage, check_dtype, check_size, fail,
                                                plausible_magnification)

DM_HEAD_BYTES = 18
_WHAT = "DigitalMicrograph"


def dm_version(head: bytes) -> Optional[int]:
    """3 or 4 when ``head`` starts like a DM3 / DM4 file, else None.

    Big-endian int32 version (3 or 4), the file length (4 or 8 bytes), the byte order of the
    values (int32 0 or 1), then the root tag group's "sorted" and "open" flags (0 or 1).
    """
    if len(head) < DM_HEAD_BYTES:
        return None
    version = struct.unpack(">i", head[:4])[0]
    if version not in (3, 4):
        return None
    at = 8 if version == 3 else 12
    order = struct.unpack(">i", head[at:at + 4])[0]
    flags = head[at + 4:at + 6]
    if order not in (0, 1) or any(flag not in (0, 1) for flag in flags):
        return None
    return version


def _entries(path: Path, lazy: bool) -> list:
    from rsciio.digitalmicrograph import file_reader

    try:
        return file_reader(str(path), lazy=lazy)
    except ValueError:
        if not lazy:
            raise
        return file_reader(str(path), lazy=False)     # e.g. RGBA images cannot be read lazily


def _the_image(path: Path, entries) -> dict:
    """The one image of ``entries``. A colour (RGBA) image next to a grey one is taken for a
    preview that the file does not list under ``Thumbnails`` and is left out."""
    if not entries:
        raise fail(path, "the DigitalMicrograph file holds no image")
    grey = [e for e in entries if not _is_colour(np.dtype(e["data"].dtype))]
    if len(entries) > 1 and len(grey) == 1:
        return grey[0]
    if len(entries) > 1:
        raise fail(path, f"it holds {len(entries)} images; open one 2-D micrograph per file")
    return entries[0]


def _magnification(entry: dict) -> Optional[float]:
    info = nested(entry.get("original_metadata"), "ImageList", "TagGroup0", "ImageTags",
                  "Microscope Info")
    if not isinstance(info, dict):
        return None
    if "DIFFRACTION" in str(info.get("Imaging Mode", "")).upper():
        return None
    return plausible_magnification(info.get("Indicated Magnification"))


def _is_colour(dtype: np.dtype) -> bool:
    return dtype.names is not None and {"R", "G", "B"} <= set(dtype.names)


def read_dm(path: Path, fmt: str, *, header_only: bool, max_pixels: int) -> SourceImage:
    """Decode the 2-D image of a DM3 / DM4 file (or only its header). Raises
    MicrographError."""
    entry = _the_image(path, call_reader(path, _WHAT, _entries, path, True))
    data = entry["data"]
    dtype = np.dtype(data.dtype)
    signal = str(nested(entry.get("metadata"), "Signal", "signal_type") or "")
    (height, width), axes = image_axes(path, data.shape, entry.get("axes") or [], signal)
    colour = _is_colour(dtype)
    if not colour:
        check_dtype(path, dtype)
    check_size(path, height, width, max_pixels)
    source = SourceImage(format=fmt, dtype="uint8" if colour else dtype.name,
                         shape=(height, width, 4) if colour else (height, width),
                         height=height, width=width, page_count=1,
                         magnification=_magnification(entry),
                         pixel_size_nm=pixel_size_from_axes(path, axes))
    if header_only:
        return source
    entry = _the_image(path, call_reader(path, _WHAT, _entries, path, False))
    pixels = np.asarray(entry["data"])
    if pixels.size != height * width:
        raise fail(path, f"the DigitalMicrograph image data hold {pixels.size} values, "
                         f"expected {width} x {height}")
    pixels = pixels.reshape(height, width)
    if colour:
        source.grey = luminance(np.stack([pixels[c] for c in "RGB"], axis=-1))
    else:
        source.grey = np.ascontiguousarray(pixels)
    return source
