"""Known-answer tests for RPN anchor labelling and R-CNN RoI sampling (detector/targets.py)."""

import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from temnet_app.core import box_math  # noqa: E402
from temnet_app.detector.training.targets import (  # noqa: E402
    TargetParams,
    batch_roi_targets,
    batch_rpn_targets,
    pairwise_iou,
    roi_targets,
    rpn_targets,
    target_params,
)

BIG = TargetParams(rpn_train_anchors=64, train_rois=64)  # samples everything in the small cases


def _np(t):
    return np.asarray(t)


def _strips(n, x0=0.0, width=100.0):
    """n boxes [x0, 0, x0 + width, h] with heights 1..n (IoU with [x0,0,x0+width,100] = h/100)."""
    return np.array([[x0, 0.0, x0 + width, float(h)] for h in range(1, n + 1)], np.float32)


# --- building blocks ---------------------------------------------------------------------------

def test_iou_matches_the_numpy_reference():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 400, size=(30, 2))
    wh = rng.uniform(5, 200, size=(30, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    a, b = boxes[:17], boxes[17:]
    np.testing.assert_allclose(_np(pairwise_iou(a, b)), box_math.iou_matrix(a, b), atol=1e-6)


def test_iou_of_zero_area_pairs_is_zero_not_nan():
    z = np.zeros((2, 4), np.float32)
    assert np.all(_np(pairwise_iou(z, z)) == 0.0)


def test_target_params_come_from_the_detector_config():
    from temnet_app.detector import DetectorConfig

    cfg = DetectorConfig(rpn_train_anchors=128, roi_negative_iou_low=0.1, head_box_std=(1, 1, 2, 2))
    p = target_params(cfg)
    assert p.rpn_train_anchors == 128 and p.roi_negative_iou_low == 0.1
    assert p.head_box_std == (1.0, 1.0, 2.0, 2.0) and p.rpn_box_std == (0.1, 0.1, 0.2, 0.2)
    assert p.train_rois == 50 and p.roi_positive_fraction == 0.5 and p.rpn_positive_iou == 0.7


def test_target_params_read_from_any_config_object_and_validate():
    class Cfg:
        rpn_train_anchors = 128
        train_rois = 20
        unrelated = "ignored"
    p = target_params(Cfg())
    assert p.rpn_train_anchors == 128 and p.train_rois == 20 and p.rpn_positive_iou == 0.7
    with pytest.raises(ValueError):
        TargetParams(rpn_positive_iou=0.2, rpn_negative_iou=0.3)
    with pytest.raises(ValueError):
        TargetParams(head_box_std=(0.1, 0.1, 0.0, 0.2))


# --- RPN ---------------------------------------------------------------------------------------

def test_rpn_thresholds_are_inclusive_at_0_7_and_exclusive_at_0_3():
    gt = np.array([[0, 0, 100, 100]], np.float32)
    anchors = np.array([
        [0, 0, 100, 100],    # IoU 1.00 -> positive
        [0, 0, 100, 70],     # IoU 0.70 -> positive
        [0, 0, 100, 69],     # IoU 0.69 -> ignored
        [0, 0, 100, 30],     # IoU 0.30 -> ignored
        [0, 0, 100, 29],     # IoU 0.29 -> negative
        [500, 500, 600, 600],  # IoU 0 -> negative
    ], np.float32)
    labels, deltas = rpn_targets(anchors, gt, [3], BIG, seed=(1, 2))
    assert _np(labels).tolist() == [1, 1, -1, -1, 0, 0]
    d = _np(deltas)
    np.testing.assert_allclose(d[0], 0.0, atol=1e-6)
    # anchor [0,0,100,70]: centre y 35 vs 50 -> (15/70)/0.1; log(100/70)/0.2
    np.testing.assert_allclose(d[1], [0.0, 15 / 70 / 0.1, 0.0, math.log(100 / 70) / 0.2], rtol=1e-5)
    assert np.all(d[2:] == 0.0)


def test_best_anchor_of_a_gt_is_positive_even_below_0_7():
    gt = np.array([[0, 0, 100, 100]], np.float32)
    anchors = np.array([[0, 0, 50, 100],    # IoU 0.5: the best for the GT -> positive
                        [0, 0, 40, 100],    # IoU 0.4 -> ignored
                        [300, 300, 350, 350]], np.float32)
    labels, deltas = rpn_targets(anchors, gt, [2], BIG, seed=(0, 0))
    assert _np(labels).tolist() == [1, -1, 0]
    # anchor centre (25, 50), 50 x 100; GT centre (50, 50), 100 x 100
    np.testing.assert_allclose(_np(deltas)[0], [5.0, 0.0, math.log(2) / 0.2, 0.0], rtol=1e-5)


def test_a_forced_anchor_regresses_to_the_gt_it_is_best_for():
    g1 = [0, 0, 100, 100]
    g2 = [0, 0, 60, 60]
    anchors = np.array([[0, 0, 60, 70],   # IoU 0.42 with g1 (its best), 0.857 with g2
                        [0, 0, 60, 60]], np.float32)  # IoU 1 with g2, 0.36 with g1
    labels, deltas = rpn_targets(anchors, np.array([g1, g2], np.float32), [1, 2], BIG, seed=(0, 0))
    assert _np(labels).tolist() == [1, 1]
    # anchor 0 -> g1: centre (30,35) 60x70 -> (50,50) 100x100
    expect = [20 / 60 / 0.1, 15 / 70 / 0.1, math.log(100 / 60) / 0.2, math.log(100 / 70) / 0.2]
    np.testing.assert_allclose(_np(deltas)[0], expect, rtol=1e-5)
    np.testing.assert_allclose(_np(deltas)[1], 0.0, atol=1e-6)


def test_padding_rows_and_non_overlapping_gt_make_no_positives():
    anchors = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
    gt = np.array([[0, 0, 10, 10],            # exact match but class 0 = padding
                   [500, 500, 600, 600]],     # a real GT overlapping no anchor
                  np.float32)
    labels, deltas = rpn_targets(anchors, gt, [0, 1], BIG, seed=(0, 0))
    assert _np(labels).tolist() == [0, 0]
    assert np.all(_np(deltas) == 0.0)


def test_rpn_sampling_caps_positives_at_half_and_fills_with_negatives():
    gt = np.array([[0, 0, 100, 100]], np.float32)
    pos = _strips(100)[70:]                        # 30 anchors with IoU 0.71..1.0
    neg = _strips(200, x0=1000.0)                  # 200 anchors far away
    anchors = np.concatenate([pos, neg])
    p = TargetParams(rpn_train_anchors=40, rpn_positive_fraction=0.5)
    labels = _np(rpn_targets(anchors, gt, [1], p, seed=(4, 2))[0])
    assert (labels == 1).sum() == 20 and (labels == 0).sum() == 20
    assert np.all(labels[30:] != 1) and np.all(labels[:30] != 0)
    # too few positives: all of them, the rest negatives
    labels = _np(rpn_targets(np.concatenate([pos[-3:], neg]), gt, [1], p, seed=(4, 2))[0])
    assert (labels == 1).sum() == 3 and (labels == 0).sum() == 37
    p25 = TargetParams(rpn_train_anchors=40, rpn_positive_fraction=0.25)
    labels = _np(rpn_targets(anchors, gt, [1], p25, seed=(4, 2))[0])
    assert (labels == 1).sum() == 10 and (labels == 0).sum() == 30


def test_rpn_sampling_is_deterministic_per_seed_and_varies_across_seeds():
    gt = np.array([[0, 0, 100, 100]], np.float32)
    anchors = np.concatenate([_strips(100)[70:], _strips(200, x0=1000.0)])
    p = TargetParams(rpn_train_anchors=40)
    a = _np(rpn_targets(anchors, gt, [1], p, seed=(7, 7))[0])
    b = _np(rpn_targets(anchors, gt, [1], p, seed=(7, 7))[0])
    assert np.array_equal(a, b)
    picked = np.zeros(len(anchors), bool)
    for s in range(8):
        picked |= _np(rpn_targets(anchors, gt, [1], p, seed=(s, 0))[0]) == 1
    # 8 draws of 20 out of 30 positives cover (nearly) all of them, not a fixed prefix
    assert picked[:30].sum() >= 28
    # an unseeded call still gives a valid sample
    c = _np(rpn_targets(anchors, gt, [1], p)[0])
    assert (c == 1).sum() == 20 and (c == 0).sum() == 20


def test_background_only_image_gives_only_negative_rpn_labels():
    anchors = np.concatenate([_strips(100), _strips(100, x0=300.0)])
    gt = np.zeros((20, 4), np.float32)
    labels, deltas = rpn_targets(anchors, gt, np.zeros(20, np.int32),
                                 TargetParams(rpn_train_anchors=64), seed=(1, 1))
    labels = _np(labels)
    assert (labels == 0).sum() == 64 and (labels == 1).sum() == 0
    assert np.all(_np(deltas) == 0.0) and np.all(np.isfinite(_np(deltas)))
    labels, _ = rpn_targets(anchors, np.zeros((0, 4)), np.zeros(0, np.int32),
                            TargetParams(rpn_train_anchors=64), seed=(1, 1))
    assert (_np(labels) == 0).sum() == 64


# --- R-CNN RoIs --------------------------------------------------------------------------------

def test_roi_targets_add_gt_boxes_and_use_the_classes_of_the_best_gt():
    gt = np.array([[0, 0, 100, 100], [200, 0, 300, 100], [0, 0, 0, 0]], np.float32)
    cls = np.array([2, 3, 0])
    proposals = np.array([[0, 0, 100, 50],     # IoU 0.50 with GT0 -> class 2
                          [0, 0, 100, 49],     # IoU 0.49 -> background
                          [200, 0, 300, 80],   # IoU 0.80 with GT1 -> class 3
                          [0, 0, 0, 0]],       # padding proposal -> never sampled
                         np.float32)
    rois, classes, deltas = roi_targets(proposals, gt, cls, BIG, seed=(3, 3))
    rois, classes, deltas = _np(rois), _np(classes), _np(deltas)
    assert rois.shape == (64, 4) and classes.shape == (64,) and deltas.shape == (64, 4)
    fg = {tuple(r): c for r, c in zip(rois, classes) if c > 0}
    assert fg == {(0, 0, 100, 50): 2, (200, 0, 300, 80): 3, (0, 0, 100, 100): 2,
                  (200, 0, 300, 100): 3}
    assert [tuple(r) for r, c in zip(rois, classes) if c == 0] == [(0, 0, 100, 49)]
    assert np.all(classes[5:] == -1) and np.all(rois[5:] == 0.0) and np.all(deltas[5:] == 0.0)
    assert np.all(classes[:4] > 0) and classes[4] == 0       # foreground first
    row = [i for i, r in enumerate(rois) if tuple(r) == (0, 0, 100, 50)][0]
    # RoI centre (50,25) 100x50 -> GT centre (50,50) 100x100
    np.testing.assert_allclose(deltas[row], [0, 25 / 50 / 0.1, 0, math.log(2) / 0.2], rtol=1e-5)
    gt_row = [i for i, r in enumerate(rois) if tuple(r) == (0, 0, 100, 100)][0]
    np.testing.assert_allclose(deltas[gt_row], 0.0, atol=1e-6)


def test_roi_background_lower_bound_excludes_barely_overlapping_rois():
    gt = np.array([[0, 0, 100, 100]], np.float32)
    proposals = np.array([[0, 0, 100, 10],            # IoU 0.10 -> background
                          [0, 0, 100, 9],             # IoU 0.09 -> excluded with low = 0.1
                          [400, 400, 500, 500]], np.float32)  # IoU 0 -> excluded
    p = TargetParams(train_rois=8, roi_negative_iou_low=0.1)
    rois, classes, _ = roi_targets(proposals, gt, [1], p, seed=(0, 1))
    assert _np(classes).tolist() == [1, 0, -1, -1, -1, -1, -1, -1]
    assert tuple(_np(rois)[1]) == (0, 0, 100, 10)
    _, classes, _ = roi_targets(proposals, gt, [1], TargetParams(train_rois=8), seed=(0, 1))
    assert sorted(_np(classes).tolist()) == [-1] * 4 + [0, 0, 0, 1]


def test_roi_sampling_proportions_and_determinism():
    gt = np.array([[0, 0, 100, 100]], np.float32)
    proposals = np.concatenate([_strips(100)[59:],            # 41 with IoU >= 0.6 (+ the GT)
                                _strips(40)])                # 40 with IoU 0.01..0.40
    p = TargetParams(train_rois=50, roi_positive_fraction=0.5)
    out = roi_targets(proposals, gt, [2], p, seed=(9, 9))
    classes = _np(out[1])
    assert (classes == 2).sum() == 25 and (classes == 0).sum() == 25
    again = roi_targets(proposals, gt, [2], p, seed=(9, 9))
    assert all(np.array_equal(_np(x), _np(y)) for x, y in zip(out, again))
    other = roi_targets(proposals, gt, [2], p, seed=(9, 10))
    assert not np.array_equal(_np(out[0]), _np(other[0]))


def test_background_only_image_gives_background_rois_and_zero_box_targets():
    proposals = _strips(30, x0=10.0)
    rois, classes, deltas = roi_targets(proposals, np.zeros((20, 4)), np.zeros(20, np.int32),
                                        TargetParams(train_rois=50), seed=(5, 5))
    classes = _np(classes)
    assert (classes == 0).sum() == 30 and (classes == -1).sum() == 20
    assert np.all(_np(deltas) == 0.0)


def test_no_proposals_and_no_gt_give_only_padding():
    rois, classes, deltas = roi_targets(np.zeros((0, 4)), np.zeros((0, 4)), np.zeros(0, np.int32),
                                        TargetParams(train_rois=6), seed=(0, 0))
    assert _np(classes).tolist() == [-1] * 6
    assert np.all(_np(rois) == 0.0) and np.all(_np(deltas) == 0.0)


# --- batched, in a graph -----------------------------------------------------------------------

def _batch_case():
    p = TargetParams(rpn_train_anchors=16, train_rois=12)
    anchors = tf.constant(np.concatenate([_strips(100)[60:], _strips(60, x0=1000.0)]))
    gt = np.zeros((2, 4, 4), np.float32)
    cls = np.zeros((2, 4), np.int32)
    gt[0, 0] = [0, 0, 100, 100]
    cls[0, 0] = 3                           # image 1 is background only
    proposals = tf.stack([anchors[:50], anchors[30:80]])
    return p, anchors, proposals, tf.constant(gt), tf.constant(cls)


def _check_batch_counts(labels, classes, box_t):
    assert (_np(labels[0]) == 1).sum() == 8 and (_np(labels[0]) == 0).sum() == 8
    assert (_np(labels[1]) == 1).sum() == 0 and (_np(labels[1]) == 0).sum() == 16
    assert (_np(classes[0]) == 3).sum() == 6 and (_np(classes[0]) == 0).sum() == 6
    assert (_np(classes[1]) == 0).sum() == 12
    assert np.all(_np(box_t[1]) == 0.0)


def test_batched_targets_run_in_tf_function_and_match_the_per_image_results():
    p, anchors, proposals, gt, cls = _batch_case()

    @tf.function
    def run(anchors, proposals, gt, cls):
        rpn = batch_rpn_targets(anchors, gt, cls, p, seed=(11, 12))
        roi = batch_roi_targets(proposals, gt, cls, p, seed=(11, 12))
        return rpn + roi

    labels, rpn_deltas, rois, classes, box_t = run(anchors, proposals, gt, cls)
    assert labels.shape == (2, 100) and rpn_deltas.shape == (2, 100, 4)
    assert rois.shape == (2, 12, 4) and classes.shape == (2, 12) and box_t.shape == (2, 12, 4)
    for i in range(2):
        seed = tf.random.experimental.stateless_fold_in(tf.constant([11, 12]), i)
        single = rpn_targets(anchors, gt[i], cls[i], p, seed=seed)
        assert np.array_equal(_np(labels[i]), _np(single[0]))
        single = roi_targets(proposals[i], gt[i], cls[i], p, seed=seed)
        assert np.array_equal(_np(classes[i]), _np(single[1]))
    _check_batch_counts(labels, classes, box_t)


@pytest.mark.slow
def test_batched_targets_compile_with_xla():
    """Keras compiles train_step with XLA by default on TensorFlow; targets must allow it.

    XLA's Philox stream differs from the CPU kernel's, so only the counts are compared, plus
    determinism for a seed and a valid sample without one.
    """
    p, anchors, proposals, gt, cls = _batch_case()

    @tf.function(jit_compile=True)
    def run(anchors, proposals, gt, cls, seed):
        rpn = batch_rpn_targets(anchors, gt, cls, p, seed=seed)
        roi = batch_roi_targets(proposals, gt, cls, p, seed=seed)
        unseeded = batch_rpn_targets(anchors, gt, cls, p)
        return rpn + roi + unseeded

    first = run(anchors, proposals, gt, cls, tf.constant([5, 6]))
    again = run(anchors, proposals, gt, cls, tf.constant([5, 6]))
    labels, _, _, classes, box_t, unseeded, _ = first
    _check_batch_counts(labels, classes, box_t)
    _check_batch_counts(unseeded, classes, box_t)
    assert all(np.array_equal(_np(x), _np(y)) for x, y in zip(first[:5], again[:5]))
