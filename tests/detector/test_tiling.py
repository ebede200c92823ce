"""Known-answer tests for detector.tiling (eq. 6 windows, extraction, mapping back, merge)."""

import numpy as np
import pytest

from temnet_app.detector.tiling import (Window, count_windows, extract_windows, merge_windows,
                                        pad_value, plan_windows, rescale_image, to_micrograph,
                                        whole_image_scale, window_scale, window_size)


@pytest.mark.parametrize("mag, side", [(30000, 1024), (25000, 853), (20000, 683), (15000, 512),
                                       (60000, 2048)])
def test_window_size_eq6(mag, side):
    # 1024 * 25/30 = 853.33 -> 853; 1024 * 20/30 = 682.67 -> 683
    assert window_size(mag) == side


def test_window_size_custom_training_window_and_bad_input():
    assert window_size(30000, train_window=500) == 500
    assert window_size(25000, train_window=600, train_magnification=20000) == 750
    with pytest.raises(ValueError):
        window_size(0)


def test_plan_windows_standard_micrograph():
    # 4000 x 2620, window 1024, overlap 256 -> step 768.
    # x: 0, 768, 1536, 2304 (ends 3328 < 4000), then flush 4000 - 1024 = 2976 -> 5 columns
    # y: 0, 768, 1536 (ends 2560 < 2620), then flush 2620 - 1024 = 1596      -> 4 rows
    wins = plan_windows(4000, 2620, 1024, 256)
    assert len(wins) == 20
    xs = sorted({w.x0 for w in wins})
    ys = sorted({w.y0 for w in wins})
    assert xs == [0, 768, 1536, 2304, 2976]
    assert ys == [0, 768, 1536, 1596]
    assert all(w.width == w.height == w.size == 1024 for w in wins)
    assert wins[0] == Window(0, 0, 1024, 1024, 1024)
    assert wins[4] == Window(2976, 0, 4000, 1024, 1024)      # row-major: end of the first row
    assert wins[-1] == Window(2976, 1596, 4000, 2620, 1024)
    covered = np.zeros((2620, 4000), dtype=bool)
    for w in wins:
        covered[w.y0:w.y1, w.x0:w.x1] = True
    assert covered.all()


def test_plan_windows_exact_fit_has_no_duplicate():
    wins = plan_windows(1792, 1024, 1024, 256)       # 1792 = 1024 + 768
    assert [(w.x0, w.x1) for w in wins] == [(0, 1024), (768, 1792)]


def test_plan_windows_small_image_gives_one_partial_window():
    assert plan_windows(500, 300, 1024, 256) == [Window(0, 0, 500, 300, 1024)]
    wins = plan_windows(2000, 600, 1024, 256)        # x: 0, 768, flush 976; y: one short row
    assert [(w.x0, w.y0, w.x1, w.y1) for w in wins] == [(0, 0, 1024, 600), (768, 0, 1792, 600),
                                                        (976, 0, 2000, 600)]


@pytest.mark.parametrize("args", [(0, 10, 5, 0), (10, 10, 5, 5), (10, 10, 5, -1), (10, 10, 0, 0)])
def test_plan_windows_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        plan_windows(*args)


def test_extract_windows_identity_when_out_size_equals_window():
    img = (np.arange(300 * 400) % 251).astype(np.uint8).reshape(300, 400)
    wins = plan_windows(400, 300, 200, 50)
    crops = extract_windows(img, wins, 200)
    assert crops.shape == (len(wins), 200, 200) and crops.dtype == np.uint8
    for w, c in zip(wins, crops):
        np.testing.assert_array_equal(c, img[w.y0:w.y1, w.x0:w.x1])


def test_extract_windows_pads_small_image_with_its_mean():
    img = np.zeros((200, 300), dtype=np.uint8)
    img[:, :150] = 100
    img[:, 150:] = 201                                # mean 150.5 -> rounds to 151
    assert pad_value(img) == 151
    (crop,) = extract_windows(img, plan_windows(300, 200, 400, 100), 400)
    np.testing.assert_array_equal(crop[:200, :300], img)
    assert (crop[200:, :] == 151).all() and (crop[:, 300:] == 151).all()


def test_extract_windows_resize_is_anti_aliased():
    # a one-pixel checkerboard of 0 / 255 halved: an area-like filter gives ~127.5 everywhere,
    # nearest-neighbour would give all 0 or all 255
    yy, xx = np.mgrid[:64, :64]
    img = (((xx + yy) % 2) * 255).astype(np.uint8)
    (small,) = extract_windows(img, [Window(0, 0, 64, 64, 64)], 32)
    assert set(np.unique(small[2:-2, 2:-2])) <= {127, 128}
    flat = np.full((64, 64), 77, dtype=np.uint8)
    assert (extract_windows(flat, [Window(0, 0, 64, 64, 64)], 50) == 77).all()


def test_extract_windows_rejects_bad_images_and_windows():
    with pytest.raises(ValueError):
        extract_windows(np.zeros((10, 10), np.float32), [Window(0, 0, 10, 10, 10)], 8)
    with pytest.raises(ValueError):
        extract_windows(np.zeros((10, 10), np.uint8), [Window(0, 0, 12, 10, 12)], 8)
    with pytest.raises(ValueError):
        Window(0, 0, 20, 10, 16)


def test_window_scale_and_boxes_back_to_micrograph():
    assert window_scale(1024, 512) == 0.5
    assert window_scale(Window(0, 0, 853, 853, 853), 512) == 512 / 853
    w = Window(2976, 1596, 4000, 2620, 1024)
    boxes = np.array([[10.0, 20.0, 110.0, 220.0], [0.0, 0.0, 512.0, 512.0]])
    np.testing.assert_array_equal(to_micrograph(boxes, w, 512),
                                  [[2996.0, 1636.0, 3196.0, 2036.0],
                                   [2976.0, 1596.0, 4000.0, 2620.0]])
    # a padded partial window keeps the nominal scale: 512 net px = 1024 image px
    small = Window(0, 0, 500, 300, 1024)
    np.testing.assert_array_equal(to_micrograph([[100, 50, 200, 100]], small, 512),
                                  [[200.0, 100.0, 400.0, 200.0]])
    assert to_micrograph(np.zeros((0, 4)), w, 512).shape == (0, 4)


def test_merge_windows_is_class_agnostic_with_larger_box_tie_rule():
    small = [10.0, 10.0, 20.0, 20.0]   # area 100
    large = [8.0, 8.0, 21.0, 21.0]     # area 169, IoU 100/169 with small
    far = [100.0, 100.0, 110.0, 110.0]
    kept = merge_windows(np.array([small, large, far]), np.array([0.8, 0.8, 0.5]),
                         np.array([2, 3, 2]))
    np.testing.assert_array_equal(kept, [1, 2])             # tie -> larger (class 3) kept
    kept = merge_windows(np.array([small, large]), np.array([0.9, 0.8]), np.array([2, 3]))
    np.testing.assert_array_equal(kept, [0])                # other class suppressed too
    # nested boxes with IoU exactly 3/10 = the threshold: both kept
    kept = merge_windows(np.array([[0.0, 0, 3, 1], [0.0, 0, 10, 1]]), np.array([0.9, 0.8]),
                         np.array([1, 1]))
    np.testing.assert_array_equal(kept, [0, 1])
    with pytest.raises(ValueError):
        merge_windows(np.array([small]), np.array([0.5]), np.array([1, 2]))


def test_whole_image_scale_and_rescale_to_multiples_of_32():
    assert whole_image_scale(30000) == 0.5
    assert whole_image_scale(20000) == 512 / 683
    img = np.full((2620, 4000), 90, dtype=np.uint8)
    out, fx, fy = rescale_image(img, 0.5)
    # 2000 / 32 = 62.5 -> 63 * 32 = 2016; 1310 / 32 = 40.9 -> 41 * 32 = 1312
    assert out.shape == (1312, 2016) and out.dtype == np.uint8 and (out == 90).all()
    assert fx == 2016 / 4000 and fy == 1312 / 2620
    tiny, fx, fy = rescale_image(np.zeros((10, 12), np.uint8), 0.5)
    assert tiny.shape == (32, 32) and fx == 32 / 12 and fy == 32 / 10
    with pytest.raises(ValueError):
        rescale_image(img, 0.0)


@pytest.mark.parametrize("width, height, window, overlap", [
    (4000, 2620, 1024, 384), (1000, 800, 34, 13), (512, 512, 1024, 384), (1025, 1, 1024, 0),
    (39936, 300, 171, 64)])
def test_count_windows_matches_the_plan(width, height, window, overlap):
    assert count_windows(width, height, window, overlap) == \
        len(plan_windows(width, height, window, overlap))
