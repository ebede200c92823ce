"""Augmentation keeps boxes consistent with pixels; known answers for each transform."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from temnet_app.detector.data.augment import (  # noqa: E402
    NO_AUGMENTATION,
    SCALE,
    AugmentSettings,
    augment,
    flip_horizontal,
    flip_vertical,
    gaussian_blur,
    gaussian_noise,
    transpose,
    zoom,
)

S = 96


def _bright_box(image: np.ndarray, threshold: float = 128.0):
    ys, xs = np.nonzero(image > threshold)
    return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def _scene(box):
    image = np.zeros((S, S), np.float32)
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = 255.0
    boxes = np.zeros((4, 4), np.float32)
    boxes[0] = box
    ids = np.array([2, 0, 0, 0], np.int32)
    return image, boxes, ids


def test_deterministic_transforms_by_hand():
    image, boxes, _ = _scene([10, 20, 30, 60])
    # mirror left-right in a 96-px image: x -> 96 - x
    im, b = flip_horizontal(tf.constant(image), tf.constant(boxes[:1]))
    np.testing.assert_allclose(b.numpy(), [[66, 20, 86, 60]])
    assert _bright_box(im.numpy()) == [66, 20, 86, 60]
    im, b = flip_vertical(tf.constant(image), tf.constant(boxes[:1]))
    np.testing.assert_allclose(b.numpy(), [[10, 36, 30, 76]])
    assert _bright_box(im.numpy()) == [10, 36, 30, 76]
    im, b = transpose(tf.constant(image[:, :, None]), tf.constant(boxes[:1]))
    np.testing.assert_allclose(b.numpy(), [[20, 10, 60, 30]])
    assert _bright_box(im.numpy()[:, :, 0]) == [20, 10, 60, 30]


def test_augmented_boxes_follow_the_pixels_in_all_eight_orientations():
    box = [10, 20, 30, 60]
    image, boxes, ids = _scene(box)
    seen = set()
    # run in a tf.data map, as the pipeline does (graph mode)
    # (gamma and blur move a sharp edge across the threshold of _bright_box: geometry only)
    sharp = AugmentSettings(gamma_probability=0.0, blur_probability=0.0)
    runs = tf.data.Dataset.range(100).map(
        lambda seed: augment(tf.constant(image), tf.constant(boxes), tf.constant(ids), seed,
                             sharp))
    for im, b in runs.as_numpy_iterator():
        assert im.shape == (S, S) and im.min() >= 0.0 and im.max() <= 255.0
        np.testing.assert_allclose(_bright_box(im), b[0])
        assert not b[1:].any()                                  # padding stays zero
        seen.add(tuple(int(v) for v in b[0]))
    # a 20 x 40 box has exactly 8 images under the symmetries of the square
    assert len(seen) == 8


def test_same_seed_same_result_and_no_augmentation_is_identity():
    image, boxes, ids = _scene([40, 5, 70, 25])
    args = (tf.constant(image), tf.constant(boxes), tf.constant(ids))
    a = augment(*args, tf.constant(7, tf.int64))
    b = augment(*args, tf.constant(7, tf.int64))
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    im, bx = augment(*args, tf.constant(7, tf.int64), NO_AUGMENTATION)
    np.testing.assert_array_equal(im.numpy(), image)
    np.testing.assert_array_equal(bx.numpy(), boxes)


def test_noise_has_the_requested_sd():
    settings = AugmentSettings(False, False, False, False, noise_probability=1.0,
                               noise_sd=(5.0, 5.0), jitter_probability=0.0,
                               gamma_probability=0.0, blur_probability=0.0)
    image = tf.fill([512, 512], 128.0)
    out, _ = augment(image, tf.zeros([1, 4]), tf.zeros([1], tf.int32),
                     tf.constant(3, tf.int64), settings)
    assert float(np.std(out.numpy())) == pytest.approx(5.0, abs=0.1)
    assert float(np.mean(out.numpy())) == pytest.approx(128.0, abs=0.1)


def test_gaussian_noise_is_standard_normal():
    z = gaussian_noise(tf.constant([512, 512]), tf.constant([4, 9], tf.int64)).numpy()
    assert z.shape == (512, 512) and z.dtype == np.float32
    assert z.mean() == pytest.approx(0.0, abs=0.01) and z.std() == pytest.approx(1.0, abs=0.01)
    # normal: 68.27% within 1 sd, 95.45% within 2 sd (binomial sd of the fraction < 0.001)
    assert np.mean(np.abs(z) < 1.0) == pytest.approx(0.6827, abs=0.004)
    assert np.mean(np.abs(z) < 2.0) == pytest.approx(0.9545, abs=0.003)
    odd = gaussian_noise(tf.constant([3, 5, 1]), tf.constant([1, 2], tf.int64))
    assert odd.shape == (3, 5, 1)


def test_contrast_stretch_about_the_mean_by_hand():
    # half 100, half 200 -> mean 150; factor 1.25 -> 150 -/+ 62.5 = 87.5 / 212.5
    settings = AugmentSettings(False, False, False, False, noise_probability=0.0,
                               jitter_probability=1.0, brightness=0.0, contrast=(1.25, 1.25),
                               gamma_probability=0.0, blur_probability=0.0)
    image = np.full((8, 8), 100.0, np.float32)
    image[:, 4:] = 200.0
    out, _ = augment(tf.constant(image), tf.zeros([1, 4]), tf.zeros([1], tf.int32),
                     tf.constant(0, tf.int64), settings)
    np.testing.assert_allclose(np.unique(out.numpy()), [87.5, 212.5], rtol=1e-5)


def test_gamma_curve_by_hand():
    settings = AugmentSettings(False, False, False, False, noise_probability=0.0,
                               jitter_probability=0.0, gamma_probability=1.0, gamma=(2.0, 2.0),
                               blur_probability=0.0)
    image = tf.constant([[0.0, 63.75, 127.5, 255.0]])
    out, _ = augment(image, tf.zeros([1, 4]), tf.zeros([1], tf.int32),
                     tf.constant(0, tf.int64), settings)
    # 255 (v / 255)^2: 0, 255/16, 255/4, 255
    np.testing.assert_allclose(out.numpy(), [[0.0, 15.9375, 63.75, 255.0]], rtol=1e-5)


def test_blur_is_a_normalised_gaussian_of_the_drawn_sd():
    delta = np.zeros((21, 21), np.float32)
    delta[10, 10] = 1000.0
    out = gaussian_blur(tf.constant(delta), tf.constant(1.5)).numpy()
    assert out.sum() == pytest.approx(1000.0, rel=1e-4)  # nothing lost or gained
    ys, xs = np.mgrid[-10:11, -10:11]
    assert np.sqrt((out * xs ** 2).sum() / out.sum()) == pytest.approx(1.5, rel=0.03)
    assert np.sqrt((out * ys ** 2).sum() / out.sum()) == pytest.approx(1.5, rel=0.03)
    flat = gaussian_blur(tf.fill([16, 16, 3], 77.0), tf.constant(2.0)).numpy()
    np.testing.assert_allclose(flat, 77.0, rtol=1e-5)  # reflecting edges keep a flat grey
    settings = AugmentSettings(False, False, False, False, noise_probability=0.0,
                               jitter_probability=0.0, gamma_probability=0.0,
                               blur_probability=1.0, blur_sigma=(1.0, 1.0))
    step = np.zeros((8, 16), np.float32)
    step[:, 8:] = 200.0
    out, _ = augment(tf.constant(step), tf.zeros([1, 4]), tf.zeros([1], tf.int32),
                     tf.constant(0, tf.int64), settings)
    row = out.numpy()[4]
    assert row[0] == pytest.approx(0.0, abs=0.1) and row[-1] == pytest.approx(200.0, abs=0.1)
    assert 0.0 < row[7] < 100.0 < row[8] < 200.0  # the edge is softened symmetrically
    assert row[7] + row[8] == pytest.approx(200.0, rel=1e-4)


def test_settings_are_validated():
    with pytest.raises(ValueError, match="blur_sigma"):
        AugmentSettings(blur_sigma=(0.5, 3.0))  # wider than the kernel covers
    with pytest.raises(ValueError, match="gamma"):
        AugmentSettings(gamma=(0.0, 1.0))
    with pytest.raises(ValueError):
        AugmentSettings(noise_probability=1.5)
    with pytest.raises(ValueError):
        AugmentSettings(noise_sd=(3.0, 1.0))
    with pytest.raises(ValueError):
        AugmentSettings(contrast=(0.0, 1.0))


def _zoomed(image, boxes, ids, seed, probability=1.0):
    settings = AugmentSettings(scale_probability=probability)
    out = zoom(tf.constant(image), tf.constant(boxes), tf.constant(ids),
               tf.constant(seed, tf.int64), settings)
    return tuple(np.asarray(t) for t in out)


@pytest.mark.parametrize("seed", range(8))
def test_zoom_moves_boxes_with_the_pixels(seed):
    image, boxes, ids = _scene([30, 40, 60, 70])
    im, b, c = _zoomed(image, boxes, ids, seed)
    assert im.shape == (S, S) and im.dtype == np.float32
    assert c[0] == 2 and not c[1:].any() and not b[1:].any()
    # the bright square, found in the output, is where the box went (within a pixel of
    # bilinear smearing), and it was resized by 0.75-1.33x
    np.testing.assert_allclose(_bright_box(im), b[0], atol=1.01)
    assert 0.75 * 30 - 1 <= b[0, 2] - b[0, 0] <= 30 * 4 / 3 + 1


def test_zoom_drops_a_box_pushed_mostly_out_and_keeps_its_pixels():
    # a box at the corner: any zoom-in pushes part of it out; find draws that cut it
    image, boxes, ids = _scene([0, 0, 40, 40])
    dropped = kept = 0
    for seed in range(40):
        im, b, c = _zoomed(image, boxes, ids, seed)
        if c[0] == 0:
            dropped += 1
            assert not b[0].any()
            assert (im > 128).any()        # the particle is still in the crop, unlabelled
        else:
            kept += 1
            # a kept box has >= 75% of its zoomed area inside; clipped to the crop
            assert b[0].min() >= 0 and b[0].max() <= S
    assert dropped and kept


def test_zoom_padding_is_the_crop_mean_and_off_means_untouched():
    image = np.full((S, S), 200, np.uint8)
    image[:, : S // 2] = 100
    boxes, ids = np.zeros((2, 4), np.float32), np.zeros(2, np.int32)
    outs = [_zoomed(image, boxes, ids, seed)[0] for seed in range(12)]
    padded = [o for o in outs if np.isclose(o, 150.0).any(axis=1).all()]
    assert padded                          # some draws zoomed out: mean-grey margins
    same = zoom(tf.constant(image), tf.constant(boxes), tf.constant(ids),
                tf.constant(3, tf.int64), AugmentSettings())
    assert same[0].dtype == tf.uint8 and np.array_equal(np.asarray(same[0]), image)
    a = _zoomed(image, boxes, ids, 5, 0.5)[0]
    np.testing.assert_array_equal(a, _zoomed(image, boxes, ids, 5, 0.5)[0])  # per seed
    assert SCALE.scale_probability == 0.5 and SCALE.scale == pytest.approx((0.75, 4 / 3))
    with pytest.raises(ValueError):
        AugmentSettings(scale=(0.0, 1.2))
