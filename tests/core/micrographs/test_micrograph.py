"""Micrograph reader: formats, grey conversion, the 8-bit stretch, pages, read_info, API."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from micrograph_corpus import RAMP_EXPECTED, RAMP_HI, RAMP_LO, ramp16, ramp_column
from PIL import Image

from temnet_app.core.errors import MicrographError
from temnet_app.core.micrographs import (SUPPORTED_SUFFIXES, is_micrograph_file, read_info,
                                         read_micrograph)
from temnet_app.core.micrographs.intensity import (HIGH_PERCENTILE, LOW_PERCENTILE,
                                                   percentiles_from_counts, stretch_range)


def _random_u8(shape=(40, 56), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _assert_ramp(pixels: np.ndarray) -> None:
    for value, expected in RAMP_EXPECTED:
        column = pixels[:, ramp_column(value)]
        assert (column == expected).all(), (value, column[:3], expected)


# ------------------------------------------------------------------ 8-bit kept exactly

@pytest.mark.parametrize("suffix", [".tif", ".tiff", ".png", ".TIF"])
def test_uint8_grey_round_trips_exactly(tmp_path, suffix):
    data = _random_u8()
    path = tmp_path / f"grey{suffix}"
    if suffix.lower().startswith(".tif"):
        tifffile.imwrite(path, data)
    else:
        Image.fromarray(data).save(path)
    loaded = read_micrograph(path)
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.flags.c_contiguous
    np.testing.assert_array_equal(loaded.pixels, data)
    info = loaded.info
    assert info.path == path and info.source_dtype == "uint8"
    assert info.format == ("png" if suffix == ".png" else "tiff")
    assert (info.width, info.height, info.source_shape) == (56, 40, (40, 56))
    assert info.page_count == 1 and info.band_rows == 0 and info.stretch is None


def test_jpeg_grey_is_close_to_the_original(tmp_path):
    yy, xx = np.mgrid[0:64, 0:80]
    data = (60 + xx + yy).astype(np.uint8)           # smooth: JPEG keeps it within a few levels
    Image.fromarray(data).save(tmp_path / "a.jpg", quality=95)
    loaded = read_micrograph(tmp_path / "a.jpg")
    assert loaded.info.format == "jpeg" and loaded.pixels.shape == (64, 80)
    assert np.abs(loaded.pixels.astype(int) - data).max() <= 3


# ------------------------------------------------------------------ stretch known answers

def test_percentile_choice_is_the_documented_one():
    assert (LOW_PERCENTILE, HIGH_PERCENTILE) == (0.5, 99.5)


@pytest.mark.parametrize("writer", ["tiff", "png", "tiff-bigendian"])
def test_uint16_ramp_stretch_known_answer(tmp_path, writer):
    path = tmp_path / ("ramp.png" if writer == "png" else "ramp.tif")
    if writer == "png":
        Image.fromarray(ramp16()).save(path)
    else:
        tifffile.imwrite(path, ramp16(), byteorder=">" if "big" in writer else "<")
    loaded = read_micrograph(path)
    assert loaded.info.source_dtype == "uint16"
    assert loaded.info.stretch == pytest.approx((RAMP_LO, RAMP_HI))
    _assert_ramp(loaded.pixels)


def test_int16_with_negative_values_stretches_by_the_same_rule(tmp_path):
    data = (ramp16().astype(np.int32) - 5000).astype(np.int16)     # -5000 .. 5000
    tifffile.imwrite(tmp_path / "signed.tif", data)
    loaded = read_micrograph(tmp_path / "signed.tif")
    assert loaded.info.source_dtype == "int16"
    assert loaded.info.stretch == pytest.approx((RAMP_LO - 5000, RAMP_HI - 5000))
    _assert_ramp(loaded.pixels)


def test_float_with_nan_and_inf(tmp_path):
    bad_row = np.array([np.nan, np.inf, -np.inf] * 334)[: ramp16().shape[1]]
    data = np.vstack([ramp16().astype(np.float32), bad_row[None, :].astype(np.float32)])
    tifffile.imwrite(tmp_path / "float.tif", data)
    loaded = read_micrograph(tmp_path / "float.tif", crop_band=False)
    assert loaded.info.source_dtype == "float32"
    # the non-finite row is left out of the percentiles: same range as the integer ramp
    assert loaded.info.stretch == pytest.approx((RAMP_LO, RAMP_HI))
    _assert_ramp(loaded.pixels[:-1])
    assert loaded.pixels[-1, :6].tolist() == [0, 255, 0, 0, 255, 0]   # NaN, +inf, -inf


def test_float64_ramp(tmp_path):
    tifffile.imwrite(tmp_path / "f64.tif", ramp16().astype(np.float64) / 10000.0)
    loaded = read_micrograph(tmp_path / "f64.tif")
    assert loaded.info.stretch == pytest.approx((RAMP_LO / 1e4, RAMP_HI / 1e4))
    _assert_ramp(loaded.pixels)


def test_histogram_percentiles_equal_numpy():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 50, 997)
    counts = np.bincount(values, minlength=50)
    qs = (0.0, 0.5, 13.7, 50.0, 99.5, 100.0)
    assert percentiles_from_counts(counts, qs) == pytest.approx(np.percentile(values, qs))
    image = rng.integers(0, 65536, (37, 41)).astype(np.uint16)
    assert stretch_range(image) == pytest.approx(tuple(np.percentile(image, (0.5, 99.5))))


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_constant_image_becomes_mid_grey(tmp_path, dtype):
    tifffile.imwrite(tmp_path / "flat.tif", np.full((20, 30), 700, dtype=dtype))
    loaded = read_micrograph(tmp_path / "flat.tif")
    assert (loaded.pixels == 128).all()
    assert loaded.info.stretch == (700.0, 700.0)


def test_near_constant_image_falls_back_to_min_max(tmp_path):
    data = np.full((40, 50), 1000, dtype=np.uint16)
    data[0, :5] = 2000                # 5 of 2,000 pixels: inside the clipped 0.5 % tail
    tifffile.imwrite(tmp_path / "almost.tif", data)
    loaded = read_micrograph(tmp_path / "almost.tif")
    assert loaded.info.stretch == (1000.0, 2000.0)
    assert loaded.pixels[0, :6].tolist() == [255] * 5 + [0]


# ------------------------------------------------------------------ colour -> grey

COLOURS = np.array([[200, 0, 0], [0, 200, 0], [0, 0, 200], [10, 20, 30]], dtype=np.uint8)
# BT.601 by hand: 0.299*200 = 59.8 -> 60; 0.587*200 = 117.4 -> 117; 0.114*200 = 22.8 -> 23;
# 0.299*10 + 0.587*20 + 0.114*30 = 2.99 + 11.74 + 3.42 = 18.15 -> 18
COLOUR_GREY = [60, 117, 23, 18]


def _colour_image() -> np.ndarray:
    return np.repeat(np.repeat(COLOURS[None, :, :], 16, axis=0), 4, axis=1)   # 16 x 16 x 3


def _check_colour_grey(pixels: np.ndarray) -> None:
    assert pixels.shape == (16, 16)
    assert pixels[0, ::4].tolist() == COLOUR_GREY


@pytest.mark.parametrize("layout", ["contig", "planar", "rgba"])
def test_rgb_tiff_to_grey(tmp_path, layout):
    rgb = _colour_image()
    path = tmp_path / "rgb.tif"
    if layout == "planar":
        tifffile.imwrite(path, np.moveaxis(rgb, -1, 0), photometric="rgb",
                         planarconfig="separate")
    elif layout == "rgba":
        rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
        tifffile.imwrite(path, rgba, photometric="rgb", extrasamples=["unassalpha"])
    else:
        tifffile.imwrite(path, rgb, photometric="rgb")
    loaded = read_micrograph(path)
    _check_colour_grey(loaded.pixels)
    assert loaded.info.stretch is None


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P"])
def test_colour_png_to_grey(tmp_path, mode):
    image = Image.fromarray(_colour_image())
    if mode == "RGBA":
        image.putalpha(40)                        # alpha is ignored
    elif mode == "P":
        image = image.quantize(colors=4, method=Image.Quantize.MAXCOVERAGE)
    image.save(tmp_path / "c.png")
    assert Image.open(tmp_path / "c.png").mode == mode
    _check_colour_grey(read_micrograph(tmp_path / "c.png").pixels)


def test_grey_alpha_png_keeps_grey(tmp_path):
    data = _random_u8((20, 24))
    Image.fromarray(np.dstack([data, np.full_like(data, 9)]), mode="LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_micrograph(tmp_path / "la.png").pixels, data)


def test_palette_tiff_to_grey(tmp_path):
    index = np.repeat(np.repeat(np.arange(4, dtype=np.uint8)[None, :], 16, 0), 4, 1)
    colormap = np.zeros((3, 256), dtype=np.uint16)
    colormap[:, :4] = COLOURS.T.astype(np.uint16) * 257            # 16-bit palette entries
    tifffile.imwrite(tmp_path / "pal.tif", index, photometric="palette", colormap=colormap)
    _check_colour_grey(read_micrograph(tmp_path / "pal.tif").pixels)


def test_rgb16_tiff_grey_ramp_is_stretched(tmp_path):
    ramp = ramp16()
    tifffile.imwrite(tmp_path / "rgb16.tif", np.dstack([ramp] * 3), photometric="rgb")
    loaded = read_micrograph(tmp_path / "rgb16.tif")
    assert loaded.info.source_dtype == "uint16" and loaded.info.source_shape == (16, 1001, 3)
    assert loaded.info.stretch == pytest.approx((RAMP_LO, RAMP_HI), rel=1e-5)
    _assert_ramp(loaded.pixels)


def test_miniswhite_is_inverted(tmp_path):
    data = _random_u8((20, 20))
    tifffile.imwrite(tmp_path / "mw.tif", data, photometric="miniswhite")
    np.testing.assert_array_equal(read_micrograph(tmp_path / "mw.tif").pixels, 255 - data)


# ------------------------------------------------------------------ compression

@pytest.mark.parametrize("compression", ["lzw", "zlib", "deflate", "packbits", "lzma", "zstd",
                                         "png", "jpeg2000"])
def test_lossless_compressed_tiff_round_trips(tmp_path, compression):
    data = _random_u8((48, 64), seed=5)
    tifffile.imwrite(tmp_path / "c.tif", data, compression=compression)
    np.testing.assert_array_equal(read_micrograph(tmp_path / "c.tif").pixels, data)


@pytest.mark.parametrize("compression", ["lzw", "zstd"])
def test_compressed_uint16_tiff_stretch(tmp_path, compression):
    tifffile.imwrite(tmp_path / "c16.tif", ramp16(), compression=compression)
    _assert_ramp(read_micrograph(tmp_path / "c16.tif").pixels)


def test_jpeg_compressed_tiff(tmp_path):
    yy, xx = np.mgrid[0:64, 0:64]
    data = (50 + 2 * xx + yy).astype(np.uint8)
    tifffile.imwrite(tmp_path / "j.tif", data, compression="jpeg",
                     compressionargs={"level": 95})
    assert np.abs(read_micrograph(tmp_path / "j.tif").pixels.astype(int) - data).max() <= 3


def test_tiled_tiff(tmp_path):
    data = _random_u8((80, 96), seed=6)
    tifffile.imwrite(tmp_path / "tiled.tif", data, tile=(32, 32), compression="zlib")
    np.testing.assert_array_equal(read_micrograph(tmp_path / "tiled.tif").pixels, data)


# ------------------------------------------------------------------ pages

def test_multi_page_of_different_sizes_takes_first_page(tmp_path):
    main, thumb = _random_u8((40, 50), 1), _random_u8((20, 25), 2)
    with tifffile.TiffWriter(tmp_path / "two.tif") as writer:
        writer.write(main)
        writer.write(thumb)
    loaded = read_micrograph(tmp_path / "two.tif")
    np.testing.assert_array_equal(loaded.pixels, main)
    assert loaded.info.page_count == 2


@pytest.mark.parametrize("how", ["stack", "pages"])
def test_up_to_four_same_size_pages_take_first_page(tmp_path, how):
    pages = np.stack([_random_u8((30, 30), s) for s in range(4)])
    path = tmp_path / "four.tif"
    if how == "stack":                                   # one 'shaped' series (4, 30, 30)
        tifffile.imwrite(path, pages, photometric="minisblack")
    else:                                                # four plain pages, no shape tag
        with tifffile.TiffWriter(path) as writer:
            for page in pages:
                writer.write(page, metadata=None)
    loaded = read_micrograph(path)
    np.testing.assert_array_equal(loaded.pixels, pages[0])
    assert loaded.info.page_count == 4


# ------------------------------------------------------------------ read_info, suffixes

def test_read_info_reads_only_the_header(tmp_path):
    path = tmp_path / "ramp.tif"
    tifffile.imwrite(path, ramp16())
    path.write_bytes(path.read_bytes()[:-5000])        # pixel data cut short
    info = read_info(path)
    assert (info.format, info.source_dtype, info.width, info.height) == ("tiff", "uint16",
                                                                         1001, 16)
    assert info.band_rows == 0 and info.stretch is None
    with pytest.raises(MicrographError, match="truncated"):
        read_micrograph(path)


def test_read_info_png_and_jpeg(tmp_path):
    Image.fromarray(ramp16()).save(tmp_path / "r.png")
    Image.fromarray(_random_u8((30, 40))).convert("RGB").save(tmp_path / "r.jpg")
    png, jpg = read_info(tmp_path / "r.png"), read_info(tmp_path / "r.jpg")
    assert (png.source_dtype, png.width, png.height) == ("uint16", 1001, 16)
    assert (jpg.format, jpg.source_shape) == ("jpeg", (30, 40, 3))


def test_supported_suffixes_and_file_filter():
    assert set(SUPPORTED_SUFFIXES) == {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".mrc", ".dm3",
                                       ".dm4", ".ser", ".emi"}
    assert all(s == s.lower() for s in SUPPORTED_SUFFIXES)
    for name in ["a.tif", "B.TIFF", "c.Png", "d.jpg", "e.JPEG", "dir/x.tif", "f.DM3", "g_1.ser"]:
        assert is_micrograph_file(name), name
    # a TIA .emi opens its .ser but is not a micrograph of its own (no double count in folders)
    for name in ["a.txt", "b.bmp", "tif", "c.tif.bak", "._hidden.tif", ".x.png", "notes",
                 "g.emi"]:
        assert not is_micrograph_file(name), name


def test_content_decides_the_decoder(tmp_path):
    data = _random_u8((20, 20))
    Image.fromarray(data).save(tmp_path / "really_png.tif", format="PNG")
    loaded = read_micrograph(tmp_path / "really_png.tif")
    assert loaded.info.format == "png"
    np.testing.assert_array_equal(loaded.pixels, data)
