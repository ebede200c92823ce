"""Averaging detections over flipped copies of a micrograph (test-time augmentation).

A virion looks the same mirrored; a spurious box often does not survive a mirror. Detection
runs on the micrograph as it is and mirrored left-right, top-bottom and both
(:data:`FLIPS`); the boxes are mapped back and grouped by overlap, and each group becomes one
detection whose score is the MEAN over the runs of the group's best score in that run (0 for a
run that found nothing there). A particle found with 0.9 in every run keeps 0.9; one found
with 0.9 in a single run drops to 0.225. The box is the score-weighted mean of the runs'
boxes, the class the one with the largest summed score.

Measured on the shipped models (``temnet evaluate``, confidence 0.5): mAP@0.5 on the 13
simulated test micrographs 95.5 -> 97.0 (temnet-gn-synthetic) and 96.8 -> 96.9 (temnet-gn-pellet
version 5, the default, whose card turns the averaging on; on the appearance-shifted set 97.0 ->
98.0); on the real reference more clear virions kept at about the same precision. The cost is
four detection passes instead of one (nearly four times the time per micrograph for
the pellet model on 2 CPU cores; the README has the measured figures).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from temnet_app.core.box_math import as_boxes, iou_matrix

# (mirror left-right, mirror top-bottom) per run; the first run is the micrograph itself.
FLIPS: tuple[tuple[bool, bool], ...] = ((False, False), (True, False), (False, True),
                                        (True, True))
# Boxes of different runs closer than this (IoU) are the same particle.
GROUP_IOU = 0.55

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def flip_image(image: np.ndarray, left_right: bool, top_bottom: bool) -> np.ndarray:
    """``image`` mirrored as asked, C-contiguous (a copy unless nothing is mirrored)."""
    if not (left_right or top_bottom):
        return image
    return np.ascontiguousarray(image[::-1 if top_bottom else 1, ::-1 if left_right else 1])


def unflip_boxes(boxes: np.ndarray, width: int, height: int, left_right: bool,
                 top_bottom: bool) -> np.ndarray:
    """xyxy ``boxes`` found on the mirrored image, in the original image's pixels."""
    out = as_boxes(boxes).copy()
    if left_right:
        out[:, [0, 2]] = width - out[:, [2, 0]]
    if top_bottom:
        out[:, [1, 3]] = height - out[:, [3, 1]]
    return out


def average_runs(runs: Sequence[Arrays], group_iou: float = GROUP_IOU) -> Arrays:
    """One ``(boxes, scores, class_ids)`` from several runs' (see the module docstring).

    Groups are formed greedily from the most confident box down: a box takes every box not
    yet grouped whose IoU with it is >= ``group_iou``; from each run only the group's best box
    counts (the group's other boxes are dropped). Returned by descending score.
    """
    n_runs = len(runs)
    if n_runs == 0:
        raise ValueError("no runs to average")
    boxes = np.concatenate([as_boxes(r[0]) for r in runs])
    scores = np.concatenate([np.asarray(r[1], np.float64).reshape(-1) for r in runs])
    ids = np.concatenate([np.asarray(r[2], np.int64).reshape(-1) for r in runs])
    run_of = np.concatenate([np.full(len(as_boxes(r[0])), k) for k, r in enumerate(runs)])
    if not len(boxes) == len(scores) == len(ids):
        raise ValueError("each run needs as many scores and class ids as boxes")
    order = np.argsort(-scores, kind="stable")
    out_boxes, out_scores, out_ids = [], [], []
    # One IoU row per group against the boxes still free: memory grows with N, not N^2.
    while order.size:
        seed = order[0]
        group = iou_matrix(boxes[seed:seed + 1], boxes[order])[0] >= group_iou
        members = order[group]
        members = members[np.unique(run_of[members], return_index=True)[1]]  # best per run
        weights = scores[members]
        total = weights.sum()
        out_boxes.append((boxes[members] * weights[:, None]).sum(axis=0) / total
                         if total > 0 else boxes[seed])
        out_scores.append(total / n_runs)
        votes = np.bincount(ids[members], weights=weights)
        out_ids.append(int(np.argmax(votes)))
        order = order[~group]
    ranked = np.argsort(-np.asarray(out_scores), kind="stable")
    return (np.asarray(out_boxes, np.float64).reshape(-1, 4)[ranked],
            np.asarray(out_scores, np.float64)[ranked],
            np.asarray(out_ids, np.int64)[ranked])
