"""Known-answer tests for core.box_math (areas, IoU, clipping, NMS, eq. 4 encoding)."""

import math

import numpy as np
import pytest

from temnet_app.core.box_math import (MAX_LOG_RATIO, areas, batched_nms, clip_boxes, decode_boxes,
                                      encode_boxes, iou_matrix, nms, score_order)


def test_areas_use_continuous_widths_and_zero_for_degenerate():
    b = [[0, 0, 10, 20], [5, 5, 5, 9], [3, 3, 1, 1], [0.5, 0.5, 2.0, 1.5]]
    np.testing.assert_array_equal(areas(b), [200.0, 0.0, 0.0, 1.5])
    assert areas([]).shape == (0,)


def test_iou_known_values():
    a = [[0, 0, 10, 10]]
    b = [[0, 0, 10, 10],    # identical -> 1
         [5, 0, 15, 10],    # inter 50, union 150 -> 1/3
         [10, 0, 20, 10],   # touching edge -> 0
         [2, 2, 4, 4],      # inside: 4 / 100
         [0, 0, 20, 5]]     # inter 50, union 100 + 100 - 50 = 150 -> 1/3
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 1 / 3, 0.0, 0.04, 1 / 3]])
    assert iou_matrix(b, a).shape == (5, 1)
    np.testing.assert_allclose(iou_matrix(b, a)[:, 0], iou_matrix(a, b)[0])


def test_iou_zero_area_is_safe_and_shapes_of_empty_inputs():
    z = [[5, 5, 5, 5]]
    out = iou_matrix(z, z)
    assert out.shape == (1, 1) and out[0, 0] == 0.0 and not np.isnan(out).any()
    assert iou_matrix([], [[0, 0, 1, 1]]).shape == (0, 1)
    assert iou_matrix([[0, 0, 1, 1]], np.zeros((0, 4))).shape == (1, 0)
    with pytest.raises(ValueError):
        iou_matrix([[0, 0, 1]], [[0, 0, 1, 1]])


def test_clip_boxes():
    b = np.array([[-5.0, -1.0, 50.0, 30.0], [10.0, 10.0, 20.0, 20.0]])
    out = clip_boxes(b, 40, 25)
    np.testing.assert_array_equal(out, [[0, 0, 40, 25], [10, 10, 20, 20]])
    assert b[0, 0] == -5.0  # input untouched


def test_nms_drops_only_when_iou_exceeds_threshold():
    boxes = [[0, 0, 10, 10],     # 0: best
             [5, 0, 15, 10],     # 1: IoU with 0 = 1/3
             [0, 0, 10, 5],      # 2: IoU with 0 = 0.5 exactly, with 1 = 25/125 = 0.2
             [100, 100, 110, 110]]
    scores = [0.9, 0.8, 0.7, 0.6]
    # threshold 0.3: 1 dropped (1/3 > 0.3), 2 dropped (0.5 > 0.3)
    np.testing.assert_array_equal(nms(boxes, scores, 0.3), [0, 3])
    # threshold 0.5: 2 has IoU exactly 0.5 with 0, which does not exceed it -> kept
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [0, 1, 2, 3])
    # threshold 0.49: 2 dropped, 1 kept
    np.testing.assert_array_equal(nms(boxes, scores, 0.49), [0, 1, 3])
    np.testing.assert_array_equal(nms(boxes, scores, 0.5, max_output=2), [0, 1])
    assert nms(boxes, scores, 0.5, max_output=0).size == 0
    assert nms([], [], 0.5).dtype == np.int64 and nms([], [], 0.5).size == 0


def test_nms_suppression_is_by_kept_boxes_only():
    # 1 overlaps 0 (kept) and is suppressed; 2 overlaps only 1 (suppressed) so 2 survives.
    boxes = [[0, 0, 10, 10], [6, 0, 16, 10], [12, 0, 22, 10]]
    np.testing.assert_array_equal(nms(boxes, [0.9, 0.8, 0.7], 0.1), [0, 2])


def test_nms_score_tie_keeps_the_larger_box():
    small = [10, 10, 20, 20]          # area 100
    large = [8, 8, 21, 21]            # area 169; IoU with small = 100/169 = 0.59
    for order in ([small, large], [large, small]):
        kept = nms(order, [0.8, 0.8], 0.3)
        assert len(kept) == 1
        assert order[kept[0]] == large
    # a higher score still wins over a larger box
    kept = nms([small, large], [0.81, 0.8], 0.3)
    np.testing.assert_array_equal(kept, [0])


def test_score_order_tie_rules():
    boxes = [[0, 0, 1, 1], [0, 0, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]
    # scores tie at 0.5 for all; areas 1, 9, 4, 1 -> larger first, equal area by index
    np.testing.assert_array_equal(score_order(boxes, [0.5] * 4), [1, 2, 0, 3])
    np.testing.assert_array_equal(score_order(boxes, [0.1, 0.2, 0.9, 0.9]), [2, 3, 1, 0])


def test_batched_nms_is_per_class():
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60]]
    scores = [0.9, 0.8, 0.95, 0.5]
    classes = [1, 1, 2, 1]
    # class 1: 0 kept, 1 dropped (IoU 90/110), 3 kept; class 2: 2 kept, despite IoU 1 with 0
    np.testing.assert_array_equal(batched_nms(boxes, scores, classes, 0.5), [2, 0, 3])
    assert batched_nms([], [], [], 0.5).size == 0
    with pytest.raises(ValueError):
        batched_nms(boxes, scores, [1, 2], 0.5)


def test_encode_known_values():
    anchors = np.array([[0.0, 0.0, 10.0, 20.0]])      # centre (5, 10), size 10 x 20
    boxes = np.array([[2.0, 4.0, 22.0, 24.0]])        # centre (12, 14), size 20 x 20
    t = encode_boxes(boxes, anchors)
    np.testing.assert_allclose(t, [[0.7, 0.2, math.log(2.0), 0.0]])
    t_std = encode_boxes(boxes, anchors, std=(0.1, 0.1, 0.2, 0.2))
    np.testing.assert_allclose(t_std, [[7.0, 2.0, math.log(2.0) / 0.2, 0.0]])


def test_decode_known_values_and_round_trip():
    anchors = np.array([[0.0, 0.0, 10.0, 20.0]])
    d = np.array([[0.7, 0.2, math.log(2.0), 0.0]])
    np.testing.assert_allclose(decode_boxes(d, anchors), [[2.0, 4.0, 22.0, 24.0]])
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 500, size=(50, 2))
    wh = rng.uniform(5, 300, size=(50, 2))
    boxes = np.hstack([xy, xy + wh])
    axy = rng.uniform(0, 500, size=(50, 2))
    awh = rng.uniform(16, 256, size=(50, 2))
    anc = np.hstack([axy, axy + awh])
    std = (0.1, 0.1, 0.2, 0.2)
    np.testing.assert_allclose(decode_boxes(encode_boxes(boxes, anc, std), anc, std), boxes,
                               rtol=0, atol=1e-9)


def test_decode_clamps_huge_log_ratios():
    anchors = np.array([[0.0, 0.0, 16.0, 16.0]])
    out = decode_boxes(np.array([[0.0, 0.0, 50.0, 1000.0]]), anchors)
    assert np.isfinite(out).all()
    side = 16.0 * math.exp(MAX_LOG_RATIO)              # 1000 px
    np.testing.assert_allclose(out, [[8 - side / 2, 8 - side / 2, 8 + side / 2, 8 + side / 2]])


def test_encode_rejects_bad_inputs():
    with pytest.raises(ValueError):
        encode_boxes([[0, 0, 0, 5]], [[0, 0, 5, 5]])
    with pytest.raises(ValueError):
        encode_boxes([[0, 0, 5, 5]], [[0, 0, 5, 5], [0, 0, 5, 5]])
    with pytest.raises(ValueError):
        encode_boxes([[0, 0, 5, 5]], [[0, 0, 5, 5]], std=(1, 1, 0, 1))
