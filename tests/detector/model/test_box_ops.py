"""TensorFlow box ops against the numpy reference (core.box_math) and known answers."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from temnet_app.core import box_math  # noqa: E402
from temnet_app.detector.model import box_ops  # noqa: E402

STD = (0.1, 0.1, 0.2, 0.2)


def _f32(a):
    """Round to float32-representable values: the reference and TF then see equal inputs."""
    return np.asarray(a, np.float32).astype(np.float64)


def _random_boxes(rng, n):
    xy = rng.uniform(-50, 1000, (n, 2))
    wh = rng.uniform(16, 300, (n, 2))
    return _f32(np.concatenate([xy, xy + wh], axis=1))


def _near(rng, anchors):
    """Boxes a regressor would meet: anchors moved and resized by up to about half."""
    w = anchors[:, 2] - anchors[:, 0]
    h = anchors[:, 3] - anchors[:, 1]
    cx = (anchors[:, 0] + anchors[:, 2]) / 2 + rng.uniform(-0.5, 0.5, len(w)) * w
    cy = (anchors[:, 1] + anchors[:, 3]) / 2 + rng.uniform(-0.5, 0.5, len(w)) * h
    w = w * np.exp(rng.uniform(-0.7, 0.7, len(w)))
    h = h * np.exp(rng.uniform(-0.7, 0.7, len(w)))
    return _f32(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1))


def test_encode_matches_numpy_reference():
    rng = np.random.default_rng(0)
    anchors = _random_boxes(rng, 500)
    boxes = _near(rng, anchors)
    ref = box_math.encode_boxes(boxes, anchors, STD)
    got = box_ops.encode_boxes(tf.constant(boxes), tf.constant(anchors), STD).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_decode_matches_numpy_reference_including_the_clamp():
    rng = np.random.default_rng(1)
    anchors = _random_boxes(rng, 500)
    deltas = _f32(rng.normal(0, 3, (500, 4)))
    deltas[:5, 2:] = 40.0  # beyond the log-ratio clamp
    ref = box_math.decode_boxes(deltas, anchors, STD)
    got = box_ops.decode_boxes(tf.constant(deltas), tf.constant(anchors), STD).numpy()
    # Coordinates reach ~10^3 px: float32 holds them to ~1e-4 px absolute.
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)


def test_round_trip_and_known_answer():
    anchors = np.array([[0.0, 0.0, 10.0, 20.0]])
    boxes = np.array([[5.0, 0.0, 25.0, 20.0]])  # centre +10 px in x, twice as wide
    t = box_ops.encode_boxes(tf.constant(boxes), tf.constant(anchors)).numpy()
    np.testing.assert_allclose(t, [[1.0, 0.0, np.log(2.0), 0.0]], atol=1e-6)
    back = box_ops.decode_boxes(tf.constant(t), tf.constant(anchors)).numpy()
    np.testing.assert_allclose(back, boxes, atol=1e-5)


def test_decode_broadcasts_per_class():
    rois = tf.constant([[[0.0, 0.0, 10.0, 10.0]]])             # (1, 1, 4)
    deltas = tf.zeros([1, 1, 3, 4])                            # (1, 1, 3 classes, 4)
    out = box_ops.decode_boxes(deltas, rois[:, :, None, :]).numpy()
    assert out.shape == (1, 1, 3, 4)
    np.testing.assert_allclose(out[0, 0], [[0, 0, 10, 10]] * 3)


def test_clip_and_areas():
    boxes = tf.constant([[-5.0, 2.0, 30.0, 50.0], [10.0, 10.0, 5.0, 12.0]])
    clipped = box_ops.clip_boxes(boxes, 40, 20).numpy()  # height 40, width 20
    np.testing.assert_allclose(clipped, [[0, 2, 20, 40], [10, 10, 5, 12]])
    np.testing.assert_allclose(box_ops.box_areas(tf.constant(clipped)).numpy(), [760.0, 0.0])
    np.testing.assert_allclose(clipped, box_math.clip_boxes(boxes.numpy(), 20, 40))
