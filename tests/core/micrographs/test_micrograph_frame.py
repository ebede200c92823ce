"""The uniform frame around a micrograph (black or white lines an export leaves at its edges):
known answers on textured images with frames drawn in, and the real reference's own frame."""

import io

import numpy as np
import pytest

from temnet_app.core.micrographs import read_micrograph
from temnet_app.core.micrographs.frame import MAX_FRAME_FRACTION, Frame, find_frame


def _textured(height=400, width=600, seed=0):
    """Grey noise around 140 (sd 30), as 8-bit: every line spans far more than the tolerance."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(140, 30, (height, width)), 0, 255).astype(np.uint8)


def test_a_black_frame_of_different_widths_on_each_side_is_found():
    original = _textured()
    image = original.copy()
    image[:4] = 0
    image[-1:] = 0
    image[:, :2] = 0
    image[:, -3:] = 0
    frame = find_frame(image)
    assert frame == Frame(top=4, bottom=1, left=2, right=3)
    assert np.array_equal(frame.inside(image), original[4:-1, 2:-3])


def test_a_white_frame_with_a_little_noise_in_it_is_found():
    image = _textured(seed=1)
    rng = np.random.default_rng(2)
    image[:, -5:] = 250 + rng.integers(0, 4, (400, 5))   # JPEG-like wobble of 3 grey levels
    assert find_frame(image) == Frame(right=5)


def test_a_micrograph_without_a_frame_and_a_uniform_image_have_none():
    assert find_frame(_textured(seed=3)) == Frame()
    assert find_frame(np.full((300, 300), 128, np.uint8)) == Frame()
    assert find_frame(np.zeros((4, 300), np.uint8)) == Frame()      # too small to tell


def test_a_line_with_image_in_it_ends_the_frame():
    image = _textured(seed=4)
    original = image.copy()
    image[:6] = 0
    image[3, 250:400] = original[3, 250:400]    # row 3 carries image: the frame is rows 0-2
    assert find_frame(image).top == 3


@pytest.mark.parametrize("quality", [95, 75, 50])
def test_the_real_references_frame_is_found_through_jpeg_ringing(shared_dir, quality):
    from PIL import Image

    png = read_micrograph(shared_dir / "reference" / "real_micrograph_1797001_preview.png")
    buffer = io.BytesIO()
    Image.fromarray(png.pixels).save(buffer, "JPEG", quality=quality)
    jpeg = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))
    assert jpeg[:4].max() > 3                   # the black rows are no longer one grey
    assert find_frame(jpeg) == Frame(top=4, bottom=0, left=2, right=2)


def test_the_frame_is_at_most_a_twentieth_of_each_side():
    image = _textured(seed=5)
    image[:22] = 0                      # 22 black rows: 20 are cut, 2 stay (0.5% of the rest)
    assert find_frame(image).top == int(400 * MAX_FRAME_FRACTION) == 20
    image[:100] = 0                     # a quarter of the height black is image (a grid bar)
    assert find_frame(image) == Frame()


def test_a_uniform_edge_at_a_grey_the_image_has_is_not_a_frame():
    image = np.full((400, 600), 20, np.uint8)       # a drawn test pattern on a dark ground
    image[100:300, 200:400] = 230
    assert find_frame(image) == Frame()
    image[:3] = 255                                 # a white line above it is a frame
    assert find_frame(image) == Frame(top=3)


def test_float_and_16_bit_images_are_measured_in_their_own_units():
    image = _textured(seed=6).astype(np.uint16) * 200
    image[:, :3] = 0
    assert find_frame(image) == Frame(left=3)
    assert find_frame(image.astype(np.float32) / 65535.0) == Frame(left=3)


def test_the_real_reference_has_four_black_rows_on_top_and_two_columns_each_side(shared_dir):
    image = read_micrograph(shared_dir / "reference" /
                            "real_micrograph_1797001_preview.png").pixels
    assert find_frame(image) == Frame(top=4, bottom=0, left=2, right=2)


@pytest.mark.parametrize("band", [False, True])
def test_simulated_micrographs_have_no_frame(tmp_path, band):
    from temnet_app.simulator import preset_params, simulate
    from temnet_app.simulator.simulate import write_tiff

    sim = simulate(preset_params("dataset", width=1200, height=800, seed=77, info_band=band))
    loaded = read_micrograph(write_tiff(tmp_path / "sim.tif", sim))
    assert (loaded.info.band_rows > 0) is band          # the reader takes the info band off
    assert find_frame(loaded.pixels) == Frame()
