"""Read a TIFF micrograph with tifffile (compressed TIFF decoded through imagecodecs).

Pages and volumes: the first page is the image. A file is refused as a 3-D volume when its
first series stacks planes along a depth or time axis (an ImageJ hyperstack or OME file with
Z or T > 1), or stacks more than four planes along any other non-colour axis (for instance a
``(Z, Y, X)`` array saved by tifffile, or more than four same-size pages). A micrograph saved
with a thumbnail or preview page, or up to four same-size pages (e.g. channels), opens its
first page.

Colour: RGB(A) -> luminance; palette -> colours -> luminance; other multi-sample images use
their first sample; MINISWHITE integer images are inverted so that bright means bright.

Scale: each of the pixel size and the magnification comes from the first of

1. calibrated tags that tifffile parses: the FEI / Thermo Fisher SEM and DualBeam tags
   (34680 FEI_SFEG, 34682 FEI_HELIOS; ``[Scan] PixelWidth`` / ``PixelHeight`` in metres, or
   the same keys in the section that ``[Beam] Scan`` names) and the Olympus SIS tag (33560;
   pixel size in metres and the nominal magnification). These are the instrument's own
   calibration. FEI files state no magnification usable here (an SEM's is relative to a
   screen width), so none is reported from them;
2. description texts (ImageDescription and a second description; :func:`.source.parse_scale_text`);
3. for the pixel size only, the resolution tag (XResolution with ResolutionUnit), which many
   programs fill with a screen resolution and is trusted least.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from temnet_app.core.errors import MicrographError
from temnet_app.core.micrographs.intensity import luminance
from temnet_app.core.micrographs.source import (SourceImage, check_dtype, check_size, combine_scale,
                                                fail, pixel_size_from_resolution,
                                                plausible_magnification, square_pixel_size)

MAX_PLANES = 4
_PHOTOMETRIC_MINISWHITE = 0
_PHOTOMETRIC_RGB = 2
_PHOTOMETRIC_PALETTE = 3
_PHOTOMETRIC_YCBCR = 6


def _shape_text(shape) -> str:
    return " x ".join(str(int(s)) for s in shape)


def _check_not_volume(path: Path, tif) -> None:
    series = tif.series[0] if tif.series else None
    if series is None:
        return
    planes = 1
    for axis, size in zip(series.axes, series.shape):
        if axis in "YXS":
            continue
        if axis in "ZT" and size > 1:
            raise fail(path, f"this is a 3-D stack (axes {series.axes}, shape "
                             f"{_shape_text(series.shape)}), "
                             f"not a single 2-D micrograph; save one plane as its own file")
        planes *= size
    if planes > MAX_PLANES:
        raise fail(path, f"this is a stack of {planes} images (shape "
                         f"{_shape_text(series.shape)}), not a "
                         f"single 2-D micrograph; save one plane as its own file")


def _page_geometry(page) -> tuple[int, int, int | None]:
    """(height, width, samples axis index or None) of a TIFF page from its header."""
    axes, shape = page.axes, page.shape
    if "Y" not in axes or "X" not in axes:
        raise ValueError(f"unexpected page layout {axes} {shape}")
    sample_axis = axes.index("S") if "S" in axes else None
    return int(shape[axes.index("Y")]), int(shape[axes.index("X")]), sample_axis


def _square_nm(width_m, height_m) -> float | None:
    """nm per pixel from a pixel width and height in metres (height optional), when square."""
    try:
        width = float(width_m) * 1e9
        height = width if height_m is None else float(height_m) * 1e9
    except (TypeError, ValueError):
        return None
    return square_pixel_size(width, height)


def _fei_scale(fei: dict) -> float | None:
    """nm per pixel from tifffile's ``fei_metadata`` (INI sections -> dicts)."""
    beam = fei.get("Beam") if isinstance(fei.get("Beam"), dict) else {}
    for name in ("Scan", beam.get("Scan")):
        section = fei.get(name) if isinstance(name, str) else None
        if isinstance(section, dict) and "PixelWidth" in section:
            return _square_nm(section["PixelWidth"], section.get("PixelHeight"))
    return None


def _tag_scale(tif) -> tuple[float | None, float | None]:
    """(magnification, nm per pixel) from the FEI or Olympus SIS tags of the first page."""
    try:
        fei = tif.fei_metadata
        sis = tif.sis_metadata
    except Exception:  # a malformed private tag must not stop the image from opening
        return None, None
    if isinstance(fei, dict) and fei:
        return None, _fei_scale(fei)
    if isinstance(sis, dict) and "pixelsizex" in sis:
        return (plausible_magnification(sis.get("magnification")),
                _square_nm(sis["pixelsizex"], sis.get("pixelsizey")))
    return None, None


def _scale(tif, page) -> tuple[float | None, float | None]:
    """(magnification, nm per pixel): calibrated tags, then texts, then the resolution tag."""
    texts = [page.description, getattr(page, "description1", "")]
    resolution_nm = None
    try:
        resolution_nm = pixel_size_from_resolution(page.resolution[0], page.resolutionunit)
    except (AttributeError, IndexError, TypeError, ValueError, ZeroDivisionError):
        resolution_nm = None
    text_mag, text_size = combine_scale((t for t in texts if t), resolution_nm)
    tag_mag, tag_size = _tag_scale(tif)
    return (tag_mag if tag_mag is not None else text_mag,
            tag_size if tag_size is not None else text_size)


def _check_complete(path: Path, page, file_size: int) -> None:
    """Refuse pages whose image data lie (partly) beyond the end of the file."""
    for offset, count in zip(page.dataoffsets, page.databytecounts):
        if count and offset + count > file_size:
            raise fail(path, "the TIFF file is truncated (image data end beyond the end "
                             "of the file)")


def _to_grey(page, data: np.ndarray, sample_axis: int | None) -> np.ndarray:
    photometric = int(page.photometric)
    if photometric == _PHOTOMETRIC_PALETTE and page.colormap is not None:
        colormap = np.asarray(page.colormap)
        if colormap.max() > 255:
            colormap = np.rint(colormap / 257.0)
        colormap = np.clip(colormap, 0, 255).astype(np.uint8)
        index = np.clip(data.astype(np.intp), 0, colormap.shape[1] - 1)
        return luminance(np.moveaxis(colormap[:, index], 0, -1))
    if sample_axis is not None:
        data = np.moveaxis(data, sample_axis, -1)
        if photometric in (_PHOTOMETRIC_RGB, _PHOTOMETRIC_YCBCR) and data.shape[-1] >= 3:
            return luminance(data)
        data = data[..., 0]
    if photometric == _PHOTOMETRIC_MINISWHITE and data.dtype.kind in "ui":
        if data.dtype.kind == "u":
            data = ((1 << int(page.bitspersample)) - 1 - data).astype(data.dtype)
        else:
            data = -data.astype(np.float32)
    return data


def read_tiff(path: Path, *, header_only: bool, max_pixels: int) -> SourceImage:
    """Decode the first page of a TIFF (or only its header). Raises MicrographError."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            if len(tif.pages) == 0:
                raise fail(path, "the TIFF file holds no readable image (damaged or empty)")
            page = tif.pages[0]
            if page.dtype is None:
                raise fail(path, f"unsupported TIFF sample format ({page.sampleformat!s}, "
                                 f"{page.bitspersample} bits)")
            check_dtype(path, page.dtype)
            _check_not_volume(path, tif)
            height, width, sample_axis = _page_geometry(page)
            check_size(path, height, width, max_pixels)
            magnification, pixel_size = _scale(tif, page)
            source = SourceImage(format="tiff", dtype=np.dtype(page.dtype).name,
                                 shape=tuple(int(s) for s in page.shape), height=height,
                                 width=width, page_count=len(tif.pages),
                                 magnification=magnification, pixel_size_nm=pixel_size)
            if header_only:
                return source
            _check_complete(path, page, path.stat().st_size)
            data = page.asarray()
            source.grey = _to_grey(page, data, sample_axis)
            if source.grey.shape != (height, width):
                raise fail(path, f"decoded image has shape {source.grey.shape}, expected "
                                 f"{(height, width)}")
            return source
    except MicrographError:
        raise
    except MemoryError:
        raise fail(path, "not enough memory to decode the image") from None
    except tifffile.TiffFileError as exc:
        raise fail(path, f"not a readable TIFF file ({exc})") from exc
    except Exception as exc:  # tifffile, numpy and each imagecodecs codec raise their own
        raise fail(path, f"the TIFF image data cannot be decoded ({type(exc).__name__}: "
                         f"{exc})") from exc
