"""Read a PNG or JPEG micrograph with Pillow.

Modes: L (8-bit grey, kept), I;16 (16-bit grey), I (32-bit), F (float), LA (grey + alpha:
grey kept), RGB / RGBA (luminance, alpha ignored), P / PA (palette -> colours -> luminance),
CMYK / YCbCr (via RGB). 1-bit images are refused. Animated PNGs and multi-frame JPEGs use
their first frame. Pillow reads a 16-bit-per-channel colour PNG as 8-bit RGB, so such a file
reports source dtype uint8.

Scale metadata come from PNG text chunks (tEXt / zTXt / iTXt: keys ``magnification`` and
``pixel_size_nm``, or a description text like a TIFF's), a JPEG comment, the EXIF
ImageDescription, and the physical pixel size (PNG pHYs / JPEG density) when plausible.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from temnet_app.core.errors import MicrographError
from temnet_app.core.micrographs.intensity import luminance
from temnet_app.core.micrographs.source import (SourceImage, check_size, combine_scale, fail,
                                                pixel_size_from_resolution)

_EXIF_IMAGE_DESCRIPTION = 270
_INCH_CODE = 2
_COLOUR_VIA_RGB = {"P": "RGB", "PA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB",
                   "HSV": "RGB", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB"}


def _texts(image) -> list[str]:
    """Candidate description texts: each text chunk as ``key: value``, comments, EXIF."""
    texts = []
    for key, value in image.info.items():
        if isinstance(value, bytes) and key == "comment":
            value = value.decode("latin-1", "replace")
        if not isinstance(value, str):
            continue
        texts.append(value)
        if not value.lstrip().startswith("{"):
            texts.append(f"{key}: {value}")
    try:
        description = image.getexif().get(_EXIF_IMAGE_DESCRIPTION)
    except Exception:  # a malformed EXIF block must not stop the image from opening
        description = None
    if isinstance(description, str):
        texts.append(description)
    return texts


def _density_nm(image) -> float | None:
    dpi = image.info.get("dpi")
    try:
        return pixel_size_from_resolution(dpi[0], _INCH_CODE) if dpi else None
    except (TypeError, IndexError):
        return None


def _grey(path: Path, image) -> np.ndarray:
    mode = image.mode
    if mode in _COLOUR_VIA_RGB:
        image = image.convert(_COLOUR_VIA_RGB[mode])
        mode = image.mode
    data = np.asarray(image)
    if mode in ("L", "I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return data.astype(data.dtype.newbyteorder("="), copy=False)
    if mode == "LA":
        return data[..., 0]
    if mode in ("RGB", "RGBA"):
        return luminance(data)
    raise fail(path, f"unsupported image mode {mode!r}")


def read_pillow(path: Path, fmt: str, *, header_only: bool, max_pixels: int) -> SourceImage:
    """Decode a PNG or JPEG (or only its header). Raises MicrographError."""
    from PIL import Image

    expected = {"png": "PNG", "jpeg": "JPEG"}[fmt]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=[expected]) as image:
                width, height = image.size
                check_size(path, height, width, max_pixels)
                if image.mode == "1":
                    raise fail(path, "1-bit black-and-white image; a micrograph needs grey "
                                     "levels")
                dtype, shape = _header_dtype_shape(image, height, width)
                source = SourceImage(format=fmt, dtype=dtype, shape=shape, height=height,
                                     width=width, page_count=int(getattr(image, "n_frames", 1)),
                                     magnification=None, pixel_size_nm=None)
                if not header_only:
                    image.load()
                    source.grey = _grey(path, image)
                source.magnification, source.pixel_size_nm = combine_scale(
                    _texts(image), _density_nm(image))
                return source
    except MicrographError:
        raise
    except MemoryError:
        raise fail(path, "not enough memory to decode the image") from None
    except Image.DecompressionBombError as exc:
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise fail(path, f"the image is too large for the {expected} decoder (more than "
                         f"{limit:,} pixels)") from exc
    except Image.UnidentifiedImageError as exc:
        raise fail(path, f"not a readable {expected} file") from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        raise fail(path, f"the {expected} image data cannot be decoded "
                         f"({type(exc).__name__}: {exc})") from exc


def _header_dtype_shape(image, height: int, width: int) -> tuple[str, tuple]:
    """Source dtype and stored shape from the Pillow mode, without decoding pixels."""
    mode = image.mode
    if mode.startswith("I;16"):
        return "uint16", (height, width)
    if mode == "I":
        return "int32", (height, width)
    if mode == "F":
        return "float32", (height, width)
    bands = len(image.getbands())
    return "uint8", (height, width) if bands == 1 else (height, width, bands)
