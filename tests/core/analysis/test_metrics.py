"""Known-answer tests for core.metrics: matching, VOC all-point AP, mAP, P/R/F1, confusion."""

import math

import numpy as np
import pytest

from temnet_app.core.analysis.metrics import average_precision, evaluate, match_greedy
from temnet_app.core.boxes import Box, Detection


def sq(x, cls, size=10.0, y=0.0):
    return Box(x, y, x + size, y + size, cls)


def det(x, cls, score, size=10.0, y=0.0):
    return Detection(x, y, x + size, y + size, cls, score)


def test_ap_tp_fp_tp_fp_over_three_truths_is_five_ninths():
    # order TP, FP, TP, FP with 3 GT: (recall, precision) = (1/3, 1), (1/3, 1/2), (2/3, 2/3),
    # (2/3, 1/2). Monotone precision: 1 up to recall 1/3, 2/3 up to 2/3, 0 beyond.
    # AP = 1/3 * 1 + 1/3 * 2/3 = 5/9.
    ap = average_precision(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0], bool), 3)
    assert ap == pytest.approx(5 / 9, abs=1e-12)


def test_ap_dip_is_filled_from_the_right():
    # TP, FP, FP, TP with 2 GT: points (1/2, 1), (1/2, 1/2), (1/2, 1/3), (1, 1/2).
    # AP = 1/2 * 1 + 1/2 * 1/2 = 3/4.
    ap = average_precision(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 0, 1], bool), 2)
    assert ap == pytest.approx(0.75, abs=1e-12)


def test_ap_tied_scores_form_one_point_independent_of_order():
    # 1 GT, two predictions at the same score, one TP one FP: a single point (1, 1/2) -> 1/2,
    # whichever comes first in the input.
    for flags in ([1, 0], [0, 1]):
        assert average_precision(np.array([0.8, 0.8]), np.array(flags, bool), 1) == 0.5
    # 2 GT: 0.9 TP, then {0.5 FP, 0.5 TP}: points (1/2, 1), (1, 2/3) -> 1/2 + 1/2 * 2/3 = 5/6
    for flags in ([1, 0, 1], [1, 1, 0]):
        ap = average_precision(np.array([0.9, 0.5, 0.5]), np.array(flags, bool), 2)
        assert ap == pytest.approx(5 / 6, abs=1e-12)


def test_ap_edge_cases():
    assert math.isnan(average_precision(np.array([0.5]), np.array([False]), 0))
    assert average_precision(np.zeros(0), np.zeros(0, bool), 4) == 0.0
    assert average_precision(np.array([0.3]), np.array([True]), 1) == 1.0
    assert average_precision(np.array([0.3]), np.array([False]), 1) == 0.0


def test_match_iou_exactly_half_is_not_a_match():
    truth = np.array([[0.0, 0.0, 10.0, 10.0]])
    is_tp, matched = match_greedy(np.array([[0.0, 0.0, 10.0, 5.0]]), np.array([0.9]), truth)
    assert not is_tp[0] and matched[0] == -1                   # IoU 50/100 = 0.5
    is_tp, matched = match_greedy(np.array([[0.0, 0.0, 10.0, 6.0]]), np.array([0.9]), truth)
    assert is_tp[0] and matched[0] == 0                        # IoU 0.6


def test_match_takes_best_still_unmatched_truth():
    truths = np.array([[0.0, 0, 10, 10], [4.0, 0, 14, 10]])
    preds = np.array([[1.0, 0, 11, 10],    # IoU with g0 90/110, with g1 70/130 = 0.538
                      [0.0, 0, 10, 10]])   # IoU with g0 1, with g1 60/140
    # the higher score goes first: pred 1 (0.9) takes g0; pred 0 (0.8) then takes g1 (0.538)
    is_tp, matched = match_greedy(preds, np.array([0.8, 0.9]), truths)
    assert is_tp.tolist() == [True, True] and matched.tolist() == [1, 0]


def test_evaluate_known_case_with_duplicate_and_threshold():
    # one image, class 1, 3 GT; predictions TP (0.9), FP elsewhere (0.8), TP (0.7), and a
    # duplicate of the first virion (0.6) which is a FP because its GT is already matched.
    truths = {"a.tif": [sq(0, 1), sq(100, 1), sq(200, 1)]}
    preds = {"a.tif": [det(0, 1, 0.9), det(500, 1, 0.8), det(100, 1, 0.7), det(0, 1, 0.6)]}
    ev = evaluate(preds, truths, [1], score_threshold=0.5)
    m = ev.per_class[1]
    assert m.ap == pytest.approx(5 / 9)
    assert (m.tp, m.fp, m.fn, m.n_truth, m.n_pred) == (2, 2, 1, 3, 4)
    assert m.precision == 0.5 and m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(4 / 7)        # 2 * (1/2 * 2/3) / (1/2 + 2/3)
    assert ev.overall.map == pytest.approx(5 / 9)
    # at threshold 0.75 only the first two count: TP 1, FP 1, FN 2; AP unchanged
    ev = evaluate(preds, truths, [1], score_threshold=0.75)
    m = ev.per_class[1]
    assert (m.tp, m.fp, m.fn, m.n_pred) == (1, 1, 2, 2)
    assert m.precision == 0.5 and m.recall == pytest.approx(1 / 3)
    assert m.f1 == pytest.approx(0.4) and m.ap == pytest.approx(5 / 9)
    # score exactly at the threshold counts (>=)
    assert evaluate(preds, truths, [1], score_threshold=0.6).per_class[1].n_pred == 4


def test_evaluate_pools_predictions_over_images():
    # image a: GT g1; 0.9 TP, 0.6 FP. image b: GT g2, g3; 0.8 FP, 0.7 TP.
    # pooled order TP, FP, TP, FP over 3 GT -> AP 5/9 as above.
    truths = {"a": [sq(0, 2)], "b": [sq(0, 2), sq(100, 2)]}
    preds = {"a": [det(0, 2, 0.9), det(300, 2, 0.6)], "b": [det(400, 2, 0.8), det(100, 2, 0.7)]}
    ev = evaluate(preds, truths, [1, 2, 3])
    assert ev.per_class[2].ap == pytest.approx(5 / 9)
    # classes 1 and 3 have no ground truth: AP NaN, excluded from the mean
    assert math.isnan(ev.per_class[1].ap) and math.isnan(ev.per_class[3].ap)
    assert ev.overall.map == pytest.approx(5 / 9)


def test_map_is_mean_over_classes_with_truth_and_class_match_is_required():
    truths = {"a": [sq(0, 1), sq(100, 1), sq(200, 1), sq(300, 2)]}
    preds = {"a": [det(0, 1, 0.9), det(500, 1, 0.8), det(100, 1, 0.7), det(0, 1, 0.6),
                   det(300, 2, 0.95),
                   det(200, 3, 0.99)]}  # right place, wrong class: FP of class 3, g3 missed
    ev = evaluate(preds, truths, [1, 2, 3])
    assert ev.per_class[1].ap == pytest.approx(5 / 9)
    assert ev.per_class[2].ap == 1.0
    assert math.isnan(ev.per_class[3].ap) and ev.per_class[3].fp == 1
    assert ev.per_class[3].precision == 0.0 and math.isnan(ev.per_class[3].recall)
    assert ev.overall.map == pytest.approx((5 / 9 + 1.0) / 2)
    # micro average at 0.5: TP 2 + 1 + 0 = 3, FP 2 + 0 + 1 = 3, FN 1 + 0 + 0 = 1
    o = ev.overall
    assert (o.tp, o.fp, o.fn) == (3, 3, 1)
    assert o.precision == 0.5 and o.recall == 0.75 and o.f1 == pytest.approx(0.6)


def test_image_without_predictions_counts_all_truth_as_missed():
    ev = evaluate({}, {"a": [sq(0, 1), sq(50, 1)]}, [1])
    m = ev.per_class[1]
    assert m.ap == 0.0 and m.recall == 0.0 and m.fn == 2 and m.f1 == 0.0
    assert math.isnan(m.precision)
    assert ev.confusion.tolist() == [[0, 0], [2, 0]]


def test_empty_evaluation_is_all_nan():
    ev = evaluate({}, {}, [1, 2, 3])
    assert math.isnan(ev.overall.map) and math.isnan(ev.overall.precision)
    assert math.isnan(ev.overall.f1)
    assert ev.confusion.shape == (4, 4) and ev.confusion.sum() == 0
    ev = evaluate({"a": []}, {"a": []}, [1])
    assert ev.per_class[1].n_truth == 0 and math.isnan(ev.per_class[1].ap)


def test_confusion_layout():
    truths = {"a": [sq(0, 1), sq(100, 2), sq(200, 3), sq(300, 3)]}
    preds = {"a": [det(0, 2, 0.9),      # eccentric GT seen as mature  -> [1, 2]
                   det(100, 2, 0.8),    # mature correct               -> [2, 2]
                   det(300, 3, 0.75),   # immature correct             -> [3, 3]
                   det(600, 3, 0.7),    # spurious immature            -> [0, 3]
                   det(200, 3, 0.3)]}   # below threshold: GT at 200 missed -> [3, 0]
    ev = evaluate(preds, truths, [1, 2, 3], score_threshold=0.5)
    assert ev.confusion.tolist() == [[0, 0, 0, 1],
                                     [0, 0, 1, 0],
                                     [0, 0, 1, 0],
                                     [1, 0, 0, 1]]


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="without ground truth"):
        evaluate({"x.tif": [det(0, 1, 0.9)]}, {"a.tif": []}, [1])
    with pytest.raises(ValueError, match="class 4"):
        evaluate({}, {"a": [sq(0, 4)]}, [1, 2, 3])
    with pytest.raises(ValueError):
        evaluate({}, {}, [1, 1])
