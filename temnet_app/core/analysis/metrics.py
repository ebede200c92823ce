"""Detection metrics of the TEMNet paper (section 3.2): matching, VOC AP, mAP, P / R / F1.

Matching (per image and class): predictions are visited by descending score (ties in input
order); a prediction is a true positive when its IoU with the best still-unmatched ground-truth
box of the same class is strictly greater than ``iou_threshold`` (0.5); that box is then
matched and cannot match again, so a duplicate detection of a virion is a false positive.

AP per class: all predictions of the class over all images, sorted by descending score, give
the precision-recall curve; precision is made monotone non-increasing from the right and the
area is summed over the recall steps (PASCAL VOC 2010+ all-point interpolation). Predictions
with exactly equal scores form one step of the curve (the curve is sampled only between
distinct scores), so the AP does not depend on the order of tied predictions.

A class without ground truth has AP, recall = NaN and is left out of the mAP; mAP is the mean
AP over the classes that have ground truth. Precision, recall and F1 are computed from the
predictions with ``score >= score_threshold``; precision is NaN with no such prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from temnet_app.core.box_math import iou_matrix
from temnet_app.core.boxes import Box, Detection, boxes_to_arrays


@dataclass(frozen=True)
class ClassMetrics:
    """Metrics of one class. ``tp``/``fp``/``fn``/``n_pred`` count predictions at the score
    threshold; ``n_truth`` counts ground-truth boxes; ``ap`` uses every prediction."""

    ap: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    n_truth: int
    n_pred: int


@dataclass(frozen=True)
class OverallMetrics:
    """``map`` = mean AP over classes with ground truth; P / R / F1 micro-averaged (TP, FP
    and FN summed over classes before dividing)."""

    map: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate`.

    ``confusion`` is a ``(k + 1) x (k + 1)`` int array for the ``k`` classes of
    ``class_ids``: row = ground-truth class, column = predicted class; index 0 is background
    and index ``i`` (1..k) is ``class_ids[i - 1]``. It uses class-agnostic matching (IoU above
    the threshold, predictions with ``score >= score_threshold``): ``confusion[i, j]`` counts
    ground-truth boxes of class ``i`` found by a prediction of class ``j``; ``confusion[i, 0]``
    counts missed ground truth; ``confusion[0, j]`` counts spurious predictions of class ``j``
    (matching no ground truth); ``confusion[0, 0]`` is always 0.
    """

    per_class: dict[int, ClassMetrics]
    overall: OverallMetrics
    confusion: np.ndarray
    class_ids: tuple[int, ...]
    iou_threshold: float
    score_threshold: float


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else math.nan


def match_greedy(pred_xyxy: np.ndarray, pred_scores: np.ndarray, truth_xyxy: np.ndarray,
                 iou_threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching of predictions to ground truth (one image, boxes of a single class).

    Returns ``(is_tp (N,) bool, matched_truth (N,) int)`` with ``-1`` for unmatched
    predictions. Predictions are visited by descending score (stable for ties); each takes
    the unmatched ground-truth box of highest IoU when that IoU is strictly above
    ``iou_threshold``.
    """
    n = len(pred_xyxy)
    is_tp = np.zeros(n, dtype=bool)
    matched = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(truth_xyxy) == 0:
        return is_tp, matched
    iou = iou_matrix(pred_xyxy, truth_xyxy)
    free = np.ones(len(truth_xyxy), dtype=bool)
    for i in np.argsort(-np.asarray(pred_scores, dtype=np.float64), kind="stable"):
        candidates = np.where(free, iou[i], -1.0)
        j = int(np.argmax(candidates))
        if candidates[j] > iou_threshold:
            is_tp[i] = True
            matched[i] = j
            free[j] = False
    return is_tp, matched


def average_precision(scores: np.ndarray, is_tp: np.ndarray, n_truth: int) -> float:
    """VOC all-point AP from predictions (score, TP flag) pooled over images.

    Tied scores form a single point of the curve. Returns NaN when ``n_truth`` is 0 and 0.0
    when there is ground truth but no prediction.
    """
    if n_truth <= 0:
        return math.nan
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    tp = np.cumsum(np.asarray(is_tp, dtype=np.float64).reshape(-1)[order])
    fp = np.arange(1, len(s) + 1, dtype=np.float64) - tp
    last_of_tie = np.r_[s[1:] != s[:-1], True]  # curve points between distinct scores only
    tp, fp = tp[last_of_tie], fp[last_of_tie]
    recall = np.r_[0.0, tp / n_truth, 1.0]
    precision = np.r_[0.0, tp / (tp + fp), 0.0]
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def _check_inputs(predictions: Mapping, truths: Mapping, class_ids: Sequence[int]) -> None:
    unknown = sorted(set(predictions) - set(truths))
    if unknown:
        shown = ", ".join(map(str, unknown[:3])) + (" ..." if len(unknown) > 3 else "")
        raise ValueError(f"predictions for {len(unknown)} image(s) without ground truth: {shown}")
    wanted = set(class_ids)
    if len(wanted) != len(class_ids) or not wanted:
        raise ValueError(f"class ids must be unique and non-empty: {list(class_ids)}")
    for kind, mapping in (("prediction", predictions), ("ground-truth box", truths)):
        for name, boxes in mapping.items():
            for b in boxes:
                if b.class_id not in wanted:
                    raise ValueError(f"{kind} of class {b.class_id} in {name} is not one of "
                                     f"the evaluated classes {sorted(wanted)}")


def evaluate(predictions: Mapping[str, Sequence[Detection]], truths: Mapping[str, Sequence[Box]],
             class_ids: Sequence[int], iou_threshold: float = 0.5,
             score_threshold: float = 0.5) -> Evaluation:
    """Score ``predictions`` against ``truths``; both map an image name to its boxes.

    An image of ``truths`` absent from ``predictions`` has all its ground truth missed; a
    prediction for an image absent from ``truths`` raises ``ValueError``, as does a box whose
    class is not in ``class_ids``. See the module docstring for the exact rules.
    """
    class_ids = tuple(int(c) for c in class_ids)
    _check_inputs(predictions, truths, class_ids)
    pooled = {c: ([], [], [0]) for c in class_ids}  # scores, TP flags, n_truth
    k = len(class_ids)
    col = {c: i + 1 for i, c in enumerate(class_ids)}
    confusion = np.zeros((k + 1, k + 1), dtype=np.int64)
    for name, gt in truths.items():
        p_xyxy, p_cls, p_scores = boxes_to_arrays(list(predictions.get(name, ())))
        t_xyxy, t_cls, _ = boxes_to_arrays(list(gt))
        for c in class_ids:
            pm, tm = p_cls == c, t_cls == c
            is_tp, _ = match_greedy(p_xyxy[pm], p_scores[pm], t_xyxy[tm], iou_threshold)
            pooled[c][0].append(p_scores[pm])
            pooled[c][1].append(is_tp)
            pooled[c][2][0] += int(tm.sum())
        keep = p_scores >= score_threshold
        _, matched = match_greedy(p_xyxy[keep], p_scores[keep], t_xyxy, iou_threshold)
        for pc, j in zip(p_cls[keep], matched):
            confusion[col[int(t_cls[j])] if j >= 0 else 0, col[int(pc)]] += 1
        found = np.zeros(len(t_cls), dtype=bool)
        found[matched[matched >= 0]] = True
        for tc in t_cls[~found]:
            confusion[col[int(tc)], 0] += 1

    per_class = {}
    for c in class_ids:
        scores = np.concatenate(pooled[c][0]) if pooled[c][0] else np.zeros(0)
        flags = np.concatenate(pooled[c][1]) if pooled[c][1] else np.zeros(0, dtype=bool)
        n_truth = pooled[c][2][0]
        above = scores >= score_threshold
        tp = int(np.count_nonzero(flags & above))
        fp = int(np.count_nonzero(above)) - tp
        per_class[c] = ClassMetrics(
            ap=average_precision(scores, flags, n_truth),
            precision=_ratio(tp, tp + fp), recall=_ratio(tp, n_truth),
            f1=_ratio(2 * tp, 2 * tp + fp + (n_truth - tp)),
            tp=tp, fp=fp, fn=n_truth - tp, n_truth=n_truth, n_pred=tp + fp)

    aps = [m.ap for m in per_class.values() if m.n_truth > 0]
    tp = sum(m.tp for m in per_class.values())
    fp = sum(m.fp for m in per_class.values())
    fn = sum(m.fn for m in per_class.values())
    overall = OverallMetrics(map=float(np.mean(aps)) if aps else math.nan,
                             precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn),
                             f1=_ratio(2 * tp, 2 * tp + fp + fn), tp=tp, fp=fp, fn=fn)
    return Evaluation(per_class=per_class, overall=overall, confusion=confusion,
                      class_ids=class_ids, iou_threshold=float(iou_threshold),
                      score_threshold=float(score_threshold))
