"""Info band detection and cropping: synthetic bands, bright images, the real reference."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from micrograph_corpus import add_info_band, textured_body
from PIL import Image

from temnet_app.core.micrographs import read_micrograph
from temnet_app.core.micrographs.info_band import MAX_BAND_FRACTION, detect_info_band

HEIGHT, WIDTH, BAND = 400, 300, 36          # a 9 % band, like the JEOL/AMT one


def _body_u8(mean=120.0, sd=20.0, seed=0) -> np.ndarray:
    return np.rint(textured_body(HEIGHT, WIDTH, mean, sd, seed)).astype(np.uint8)


def test_band_with_text_is_cropped_and_body_kept_exactly(tmp_path):
    body = _body_u8()
    image = add_info_band(body, BAND, white=255)
    assert (image[-BAND:] == 0).mean() > 0.03                 # the band really has text
    tifffile.imwrite(tmp_path / "band.tif", image)
    loaded = read_micrograph(tmp_path / "band.tif")
    assert loaded.info.band_rows == BAND
    assert (loaded.info.height, loaded.info.width) == (HEIGHT - BAND, WIDTH)
    np.testing.assert_array_equal(loaded.pixels, body[:HEIGHT - BAND])
    assert loaded.pixels.flags.c_contiguous


def test_crop_band_false_keeps_every_row(tmp_path):
    image = add_info_band(_body_u8(), BAND, white=255)
    tifffile.imwrite(tmp_path / "band.tif", image)
    loaded = read_micrograph(tmp_path / "band.tif", crop_band=False)
    assert loaded.info.band_rows == 0
    np.testing.assert_array_equal(loaded.pixels, image)


def test_16bit_band_is_found_before_the_stretch(tmp_path):
    body = np.rint(textured_body(HEIGHT, WIDTH, 4000, 600, top=65535)).astype(np.uint16)
    image = add_info_band(body, BAND, white=65535)
    tifffile.imwrite(tmp_path / "band16.tif", image)
    loaded = read_micrograph(tmp_path / "band16.tif")
    assert loaded.info.band_rows == BAND
    lo, hi = loaded.info.stretch
    # the stretch comes from the body alone: the white band would have pushed hi to 65535
    assert hi == pytest.approx(np.percentile(body[:HEIGHT - BAND], 99.5))
    assert hi < 8000


def test_band_in_a_jpeg_survives_compression(tmp_path):
    image = add_info_band(_body_u8(), BAND, white=255)
    Image.fromarray(image).save(tmp_path / "band.jpg", quality=75)
    assert abs(read_micrograph(tmp_path / "band.jpg").info.band_rows - BAND) <= 2


def test_float_band_with_nan_pixels():
    image = add_info_band(textured_body(HEIGHT, WIDTH, 0.4, 0.08, top=1.0), BAND, white=1.0)
    image[5, 5] = np.nan
    image[-3, 150] = np.nan
    assert detect_info_band(image) == BAND


@pytest.mark.parametrize("mean, sd", [(120.0, 20.0), (215.0, 25.0), (240.0, 15.0)])
def test_no_band_no_crop(mean, sd):
    """Plain micrographs, including bright ones with many saturated pixels, are not cut."""
    body = _body_u8(mean, sd, seed=4)
    assert detect_info_band(body) == 0


def test_bright_bottom_region_taller_than_a_band_is_not_cropped():
    image = _body_u8()
    image[-int(HEIGHT * 0.3):] = 255                # 30 % white: more than any band
    assert detect_info_band(image) == 0
    assert MAX_BAND_FRACTION == 0.25


def test_smooth_illumination_gradient_is_not_a_band():
    image = textured_body(HEIGHT, WIDTH, 120, 10, seed=2)
    ramp = np.clip(np.linspace(-200, 160, HEIGHT), 0, None)[:, None]   # bottom burns out
    image = np.clip(image + ramp, 0, 255).astype(np.uint8)
    assert (np.median(image[-10:], axis=1) == 255).all()
    assert detect_info_band(image) == 0


@pytest.mark.parametrize("rows", [1, 2, 5])
def test_thin_white_strip_is_not_a_band(rows):
    image = _body_u8()
    image[-rows:] = 255                             # < 2 % of 400 rows = 8 rows
    assert detect_info_band(image) == 0


def test_dark_band_is_not_cropped():
    image = add_info_band(_body_u8(), BAND, white=0, black=255)
    assert detect_info_band(image) == 0


def test_grey_strip_that_is_not_the_brightest_part_is_not_a_band():
    """The band must sit at the bright end of the data: a uniform light-grey strip under a
    micrograph with brighter areas (holes in the section) is left alone."""
    image = _body_u8(90.0, 15.0, seed=5)
    image[50:150, 20:120] = 250                     # a bright hole, 8 % of the image
    image[-BAND:] = 170
    assert detect_info_band(image) == 0
    image[-BAND:] = 250                             # as white as the brightest area: a band
    assert detect_info_band(image) == BAND


def test_band_over_a_bright_body_is_found():
    """A bright but textured micrograph (median ~190) still shows a clear step to white."""
    image = add_info_band(_body_u8(190.0, 15.0, seed=3), BAND, white=255)
    assert detect_info_band(image) == BAND


def test_reference_preview_band(shared_dir):
    """The real JEOL/AMT micrograph (downsampled preview, 838 x 610): rows 551-609 are the
    white info band (row medians 255), row 550 is micrograph (median ~110)."""
    path = shared_dir / "reference" / "real_micrograph_1797001_preview.png"
    loaded = read_micrograph(path)
    assert loaded.info.band_rows == 59
    assert loaded.pixels.shape == (551, 838)
    assert np.median(loaded.pixels[-1]) < 150


def test_reference_zoom_has_no_band(shared_dir):
    path = shared_dir / "reference" / "real_micrograph_1797001_zoom.png"
    assert read_micrograph(path).info.band_rows == 0
