"""Known-answer tests for the Faster R-CNN losses of eq. 1-3 (detector/losses.py)."""

import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from temnet_app.detector.training.losses import (  # noqa: E402
    detection_losses,
    rcnn_box_loss,
    rcnn_class_loss,
    rpn_box_loss,
    rpn_class_loss,
    smooth_l1,
)
from temnet_app.detector.training.targets import (  # noqa: E402
    TargetParams,
    batch_roi_targets,
    batch_rpn_targets,
)

LN2 = math.log(2.0)


def _f(t):
    return float(np.asarray(t))


def test_smooth_l1_by_hand():
    x = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]
    np.testing.assert_allclose(np.asarray(smooth_l1(x)),
                               [1.5, 0.5, 0.125, 0.0, 0.125, 0.5, 2.5], rtol=1e-6)
    # beta = 2: 0.5 x^2 / 2 inside, |x| - 1 outside
    np.testing.assert_allclose(np.asarray(smooth_l1([1.0, 3.0], beta=2.0)), [0.25, 2.0])


def test_rpn_class_loss_sigmoid_and_softmax_by_hand():
    labels = tf.constant([[1, 0, -1]])
    # single logits 0 -> p = 1/2 -> CE log 2 each; the ignored anchor's huge logit does not count
    assert _f(rpn_class_loss(labels, [[0.0, 0.0, -100.0]])) == pytest.approx(LN2, rel=1e-6)
    # two-way logits: anchor 0 p(object) = 3/4, anchor 1 p(background) = 1/2
    logits = tf.constant([[[0.0, math.log(3.0)], [0.0, 0.0], [50.0, -50.0]]])
    expect = (-math.log(0.75) + LN2) / 2
    assert _f(rpn_class_loss(labels, logits)) == pytest.approx(expect, rel=1e-6)
    # the sigmoid form with the logit difference gives the same number; (B,A,1) accepted
    diff = logits[..., 1] - logits[..., 0]
    assert _f(rpn_class_loss(labels, diff[..., None])) == pytest.approx(expect, rel=1e-6)


def test_rpn_box_loss_sums_positives_and_divides_by_sampled_anchors():
    labels = tf.constant([[1, 0, -1, 1]])
    target = tf.zeros([1, 4, 4])
    pred = tf.constant([[[0.5, 0.0, 0.0, 2.0],     # 0.125 + 1.5
                         [9.0, 9.0, 9.0, 9.0],     # negative: not counted
                         [9.0, 9.0, 9.0, 9.0],     # ignored: not counted
                         [-1.0, 0.2, 0.0, 0.0]]])  # 0.5 + 0.02
    assert _f(rpn_box_loss(labels, target, pred)) == pytest.approx((1.625 + 0.52) / 3, rel=1e-6)


def test_rcnn_class_loss_by_hand_ignores_padding():
    targets = tf.constant([[2, 0, -1]])
    logits = tf.constant([[[0.0, 0.0, math.log(2.0), 0.0],  # p(class 2) = 2/5
                           [0.0, 0.0, 0.0, 0.0],            # p(bg) = 1/4
                           [99.0, -9.0, 5.0, 1.0]]])        # padding
    expect = (-math.log(0.4) + math.log(4.0)) / 2
    assert _f(rcnn_class_loss(targets, logits)) == pytest.approx(expect, rel=1e-6)


def test_class_weighted_rcnn_class_loss_is_the_weighted_mean():
    targets = tf.constant([[2, 0, -1]])
    logits = tf.constant([[[0.0, 0.0, math.log(2.0), 0.0],  # class 2: loss ln 2.5
                           [0.0, 0.0, 0.0, 0.0],            # background: loss ln 4
                           [99.0, -9.0, 5.0, 1.0]]])        # padding: no weight
    weights = [1.0, 0.5, 3.0, 0.25]                          # background, classes 1-3
    expect = (3.0 * math.log(2.5) + 1.0 * math.log(4.0)) / 4.0
    assert _f(rcnn_class_loss(targets, logits, weights)) == pytest.approx(expect, rel=1e-6)
    plain = _f(rcnn_class_loss(targets, logits))
    assert _f(rcnn_class_loss(targets, logits, [1.0] * 4)) == pytest.approx(plain, rel=1e-6)
    nothing = tf.constant([[-1, -1, -1]])
    assert _f(rcnn_class_loss(nothing, logits, weights)) == 0.0


def test_rcnn_box_loss_uses_only_the_true_class_of_foreground_rois():
    targets = tf.constant([[3, 0, 1, -1]])
    box_t = tf.constant([[[1.0, 0.0, 0.0, 0.0], [0.0] * 4, [0.0, 0.0, 0.5, 0.0], [0.0] * 4]])
    pred = np.full((1, 4, 4, 4), 7.0, np.float32)   # every other class is badly wrong
    pred[0, 0, 3] = [1.0, 0.0, 0.0, 3.0]            # class 3: error (0,0,0,3) -> 2.5
    pred[0, 2, 1] = [0.0, 0.0, 0.0, 0.0]            # class 1: error (0,0,-0.5,0) -> 0.125
    expect = (2.5 + 0.125) / 3                      # 3 sampled RoIs (2 fg + 1 bg), padding out
    assert _f(rcnn_box_loss(targets, box_t, pred)) == pytest.approx(expect, rel=1e-6)
    flat = pred.reshape(1, 4, 16)                   # (B, R, C*4) layout gives the same
    assert _f(rcnn_box_loss(targets, box_t, flat)) == pytest.approx(expect, rel=1e-6)


def test_nothing_sampled_gives_zero_not_nan():
    labels = -tf.ones([2, 5], tf.int32)
    assert _f(rpn_class_loss(labels, tf.zeros([2, 5]))) == 0.0
    assert _f(rpn_box_loss(labels, tf.zeros([2, 5, 4]), tf.ones([2, 5, 4]))) == 0.0
    assert _f(rcnn_class_loss(labels, tf.zeros([2, 5, 4]))) == 0.0
    assert _f(rcnn_box_loss(labels, tf.zeros([2, 5, 4]), tf.ones([2, 5, 16]))) == 0.0


def _toy_batch(with_gt: bool):
    """Targets for a 2-image batch over 100 anchors; image 0 holds a box only when with_gt."""
    p = TargetParams(rpn_train_anchors=32, train_rois=16)
    strips = np.array([[0, 0, 100, h] for h in range(41, 101)]
                      + [[1000, 0, 1100, h] for h in range(1, 41)], np.float32)
    anchors = tf.constant(strips)
    gt = np.zeros((2, 3, 4), np.float32)
    cls = np.zeros((2, 3), np.int32)
    if with_gt:
        gt[0, 0], cls[0, 0] = [0, 0, 100, 100], 2
    labels, rpn_t = batch_rpn_targets(anchors, gt, cls, p, seed=(1, 2))
    proposals = tf.stack([anchors[:40], anchors[50:90]])
    rois, classes, box_t = batch_roi_targets(proposals, gt, cls, p, seed=(1, 2))
    return labels, rpn_t, classes, box_t


def test_background_only_batch_has_zero_box_losses_and_finite_class_losses():
    labels, rpn_t, classes, box_t = _toy_batch(with_gt=False)
    assert set(np.unique(np.asarray(labels))) <= {-1, 0}
    assert set(np.unique(np.asarray(classes))) <= {-1, 0}
    rng = np.random.default_rng(3)
    out = detection_losses(
        labels, rpn_t, rng.normal(size=(2, 100, 2)).astype(np.float32),
        rng.normal(size=(2, 100, 4)).astype(np.float32) * 5,
        classes, box_t, rng.normal(size=(2, 16, 4)).astype(np.float32),
        rng.normal(size=(2, 16, 4, 4)).astype(np.float32) * 5,
    )
    assert _f(out["rpn_box"]) == 0.0 and _f(out["rcnn_box"]) == 0.0
    for key in ("rpn_class", "rcnn_class", "total"):
        assert np.isfinite(_f(out[key])) and _f(out[key]) > 0.0
    assert _f(out["total"]) == pytest.approx(_f(out["rpn_class"]) + _f(out["rcnn_class"]))


def _perfect_predictions(labels, rpn_t, classes, box_t, num_classes=4, margin=30.0):
    obj = np.where(np.asarray(labels) == 1, margin, -margin).astype(np.float32)
    rpn_logits = np.stack([np.zeros_like(obj), obj], axis=-1)
    onehot = np.eye(num_classes, dtype=np.float32)[np.maximum(np.asarray(classes), 0)]
    class_logits = onehot * 2 * margin - margin
    head = np.repeat(np.asarray(box_t)[:, :, None, :], num_classes, axis=2)
    return rpn_logits, np.asarray(rpn_t), class_logits, head


def test_perfect_prediction_has_near_zero_loss_and_errors_raise_it():
    labels, rpn_t, classes, box_t = _toy_batch(with_gt=True)
    assert (np.asarray(labels) == 1).sum() > 0 and (np.asarray(classes) == 2).sum() > 0
    assert np.abs(np.asarray(rpn_t)).max() > 0.5     # the targets are not trivially zero
    rpn_logits, rpn_pred, class_logits, head = _perfect_predictions(labels, rpn_t, classes, box_t)
    out = detection_losses(labels, rpn_t, rpn_logits, rpn_pred, classes, box_t, class_logits, head)
    assert _f(out["total"]) < 1e-6
    worse = detection_losses(labels, rpn_t, rpn_logits, rpn_pred + 0.5, classes, box_t,
                             class_logits, head, box_weight=2.0)
    n_pos = (np.asarray(labels) == 1).sum()
    n_sampled = (np.asarray(labels) >= 0).sum()
    # each positive anchor: 4 x smooth_l1(0.5) = 0.5, divided by the sampled anchors, times lambda
    assert _f(worse["rpn_box"]) == pytest.approx(0.5 * n_pos / n_sampled, rel=1e-5)
    assert _f(worse["total"]) == pytest.approx(2.0 * 0.5 * n_pos / n_sampled, rel=1e-4)


def test_gradients_flow_to_a_toy_variable_and_stay_finite_without_gt():
    for with_gt in (True, False):
        labels, rpn_t, classes, box_t = _toy_batch(with_gt)
        w = tf.Variable(0.3)
        feats = tf.constant(np.random.default_rng(0).normal(size=(2, 100, 4)).astype(np.float32))
        roi_feats = tf.constant(np.random.default_rng(1).normal(size=(2, 16, 4)).astype(np.float32))
        with tf.GradientTape() as tape:
            rpn_logits = w * feats[..., :2]
            rpn_pred = w * feats
            class_logits = w * roi_feats
            head = w * tf.tile(roi_feats[:, :, None, :], [1, 1, 4, 1])
            out = detection_losses(labels, rpn_t, rpn_logits, rpn_pred, classes, box_t,
                                   class_logits, head)
        grad = tape.gradient(out["total"], w)
        assert grad is not None and np.isfinite(_f(grad)) and _f(grad) != 0.0
        if not with_gt:
            with tf.GradientTape() as tape:
                box_only = rcnn_box_loss(classes, box_t, w * tf.ones([2, 16, 4, 4]))
            assert _f(tape.gradient(box_only, w)) == 0.0


def test_rpn_only_losses_and_incomplete_head_arguments():
    labels, rpn_t, classes, box_t = _toy_batch(with_gt=True)
    out = detection_losses(labels, rpn_t, tf.zeros(labels.shape), tf.zeros(rpn_t.shape))
    assert set(out) == {"rpn_class", "rpn_box", "total"}
    assert _f(out["rpn_class"]) == pytest.approx(LN2, rel=1e-6)
    with pytest.raises(ValueError):
        detection_losses(labels, rpn_t, tf.zeros(labels.shape), tf.zeros(rpn_t.shape), classes)
