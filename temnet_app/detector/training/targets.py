"""Training targets for Faster R-CNN + FPN: anchor labels for the RPN, sampled RoIs for the head.

All boxes are ``xyxy`` float pixels in the network-input frame. Ground truth is padded to a fixed
count; a row whose class id is 0 (or whose box has no area) is padding and is ignored. Deltas
follow eq. 4 of the paper, ``(t_x, t_y, t_w, t_h)``, divided by the configured box std-devs
(:func:`temnet_app.detector.model.box_ops.encode_boxes`).

Sampling is random. Pass ``seed`` (an int pair, see ``tf.random.stateless_uniform``) to make it
deterministic; without one a seed is drawn from TensorFlow's global generator on every call.
Everything here is graph-friendly (fixed output shapes, no Python branching on tensor values),
so it runs inside ``tf.function`` and ``Model.train_step``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import tensorflow as tf

from temnet_app.detector.model import DetectorConfig
from temnet_app.detector.model.box_ops import encode_boxes

_DEFAULTS = DetectorConfig()  # one home for the defaults: the detector configuration

__all__ = [
    "TargetParams",
    "target_params",
    "pairwise_iou",
    "rpn_targets",
    "roi_targets",
    "batch_rpn_targets",
    "batch_roi_targets",
]


@dataclass(frozen=True)
class TargetParams:
    """The settings target assignment needs (defaults: those of :class:`DetectorConfig`)."""

    rpn_positive_iou: float = _DEFAULTS.rpn_positive_iou
    rpn_negative_iou: float = _DEFAULTS.rpn_negative_iou
    rpn_train_anchors: int = _DEFAULTS.rpn_train_anchors
    rpn_positive_fraction: float = _DEFAULTS.rpn_positive_fraction
    rpn_box_std: tuple[float, float, float, float] = _DEFAULTS.rpn_box_std
    train_rois: int = _DEFAULTS.train_rois
    roi_positive_fraction: float = _DEFAULTS.roi_positive_fraction
    roi_positive_iou: float = _DEFAULTS.roi_positive_iou
    roi_negative_iou_low: float = _DEFAULTS.roi_negative_iou_low
    head_box_std: tuple[float, float, float, float] = _DEFAULTS.head_box_std

    def __post_init__(self) -> None:
        if not 0.0 <= self.rpn_negative_iou <= self.rpn_positive_iou <= 1.0:
            raise ValueError("RPN IoU thresholds must satisfy 0 <= negative <= positive <= 1")
        if not 0.0 <= self.roi_negative_iou_low < self.roi_positive_iou <= 1.0:
            raise ValueError("RoI IoU thresholds must satisfy 0 <= low < positive <= 1")
        for name in ("rpn_positive_fraction", "roi_positive_fraction"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in (0, 1]")
        for name in ("rpn_train_anchors", "train_rois"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("rpn_box_std", "head_box_std"):
            std = tuple(float(v) for v in getattr(self, name))
            if len(std) != 4 or min(std) <= 0.0:
                raise ValueError(f"{name} must be four positive numbers")
            object.__setattr__(self, name, std)


def target_params(config) -> TargetParams:
    """The :class:`TargetParams` of ``config`` (a TargetParams, or any object with those fields).

    Fields the object lacks keep their defaults.
    """
    if isinstance(config, TargetParams):
        return config
    values = {f.name: getattr(config, f.name) for f in fields(TargetParams)
              if hasattr(config, f.name)}
    return TargetParams(**values)


def pairwise_iou(boxes_a: tf.Tensor, boxes_b: tf.Tensor) -> tf.Tensor:
    """IoU of every box in ``boxes_a`` (N,4) with every box in ``boxes_b`` (M,4) -> (N,M).

    Boxes are xyxy; a pair whose union has no area gets IoU 0.
    """
    a = tf.cast(boxes_a, tf.float32)
    b = tf.cast(boxes_b, tf.float32)
    ax1, ay1, ax2, ay2 = tf.unstack(a[:, None, :], axis=-1)
    bx1, by1, bx2, by2 = tf.unstack(b[None, :, :], axis=-1)
    iw = tf.maximum(tf.minimum(ax2, bx2) - tf.maximum(ax1, bx1), 0.0)
    ih = tf.maximum(tf.minimum(ay2, by2) - tf.maximum(ay1, by1), 0.0)
    inter = iw * ih
    area_a = tf.maximum(ax2 - ax1, 0.0) * tf.maximum(ay2 - ay1, 0.0)
    area_b = tf.maximum(bx2 - bx1, 0.0) * tf.maximum(by2 - by1, 0.0)
    union = area_a + area_b - inter
    return tf.math.divide_no_nan(inter, union)


def _valid_boxes(boxes: tf.Tensor) -> tf.Tensor:
    """(N,) bool: the box has positive width and height."""
    return tf.logical_and(boxes[:, 2] > boxes[:, 0], boxes[:, 3] > boxes[:, 1])


def _seed_pair(seed) -> tf.Tensor:
    """A stateless-RNG seed (2,) int32: ``seed`` itself, or a fresh one from the global RNG."""
    if seed is None:
        return tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
    return tf.cast(tf.reshape(seed, [2]), tf.int32)


def _fold_in(seed: tf.Tensor, data) -> tf.Tensor:
    """A new seed pair derived from ``seed`` and an integer (Philox: same on CPU, GPU and XLA)."""
    return tf.random.experimental.stateless_fold_in(seed, data, alg="philox")


def _sample(mask: tf.Tensor, quota, max_quota: int, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Pick at most ``quota`` entries of the bool vector ``mask`` uniformly at random.

    ``max_quota`` is a static upper bound on ``quota``. Returns ``(indices, keep)``: indices
    (max_quota,) int32 into ``mask`` and keep (max_quota,) bool marking the real picks, which
    come first. Picks are distinct.
    """
    n = tf.shape(mask)[0]
    keys = tf.random.stateless_uniform([n], seed=seed, alg="philox")  # in [0, 1)
    keys = tf.where(mask, keys, -1.0)
    k = tf.minimum(max_quota, n)
    top_keys, idx = tf.math.top_k(keys, k=k, sorted=True)
    pad = max_quota - k
    top_keys = tf.pad(top_keys, [[0, pad]], constant_values=-1.0)
    idx = tf.pad(idx, [[0, pad]])
    rank = tf.range(max_quota)
    keep = tf.logical_and(top_keys >= 0.0, rank < tf.cast(quota, tf.int32))
    return idx, keep


def _sample_balanced(positive: tf.Tensor, negative: tf.Tensor, total: int, fraction: float,
                     seed: tf.Tensor):
    """At most ``round(total * fraction)`` positives, then negatives up to ``total`` picks.

    Returns ``(max_pos, pos_idx, pos_keep, neg_idx, neg_keep)`` (see :func:`_sample`; the
    positive vectors have ``max_pos`` rows, the negative ones ``total``)."""
    max_pos = int(round(total * fraction))
    pos_idx, pos_keep = _sample(positive, max_pos, max_pos, seed)
    n_pos = tf.reduce_sum(tf.cast(pos_keep, tf.int32))
    neg_idx, neg_keep = _sample(negative, total - n_pos, total, _fold_in(seed, 1))
    return max_pos, pos_idx, pos_keep, neg_idx, neg_keep


def _scatter_mask(idx: tf.Tensor, keep: tf.Tensor, size) -> tf.Tensor:
    """(size,) bool with True at ``idx[keep]`` (static shapes: XLA friendly)."""
    counts = tf.scatter_nd(idx[:, None], tf.cast(keep, tf.int32), tf.reshape(size, [1]))
    return counts > 0


def rpn_targets(anchors, gt_boxes, gt_class_ids, config, seed=None):
    """Labels and regression targets for the RPN on one image.

    ``anchors`` (A,4), ``gt_boxes`` (G,4) xyxy, ``gt_class_ids`` (G,) with 0 = padding.
    An anchor is positive when its IoU with some GT box is >= ``rpn_positive_iou`` (0.7), or when
    it is the best anchor of a GT box (any IoU > 0, ties all count); negative when its best IoU is
    < ``rpn_negative_iou`` (0.3) and it is not positive. Then ``rpn_train_anchors`` (256) are
    sampled with at most ``rpn_positive_fraction`` (50%) positives, the rest negatives.

    Returns ``labels`` (A,) int32 in {1 positive, 0 negative, -1 ignored / not sampled} and
    ``deltas`` (A,4) float32: eq. 4 offsets from the anchor to its GT box divided by the RPN std
    for positives, zeros elsewhere.
    """
    p = target_params(config)
    anchors = tf.cast(tf.reshape(anchors, [-1, 4]), tf.float32)
    gt_boxes = tf.cast(tf.reshape(gt_boxes, [-1, 4]), tf.float32)
    gt_class_ids = tf.cast(tf.reshape(gt_class_ids, [-1]), tf.int32)
    seed = _seed_pair(seed)
    num_anchors = tf.shape(anchors)[0]

    gt_valid = tf.logical_and(gt_class_ids > 0, _valid_boxes(gt_boxes))
    iou = pairwise_iou(anchors, gt_boxes)  # (A, G)
    iou = tf.where(gt_valid[None, :], iou, -1.0)  # padding never matches
    best_iou = tf.reduce_max(tf.concat([iou, -tf.ones([num_anchors, 1])], axis=1), axis=1)

    # Each GT box's best anchor(s) are positive whatever their IoU (as long as they overlap).
    gt_best = tf.reduce_max(tf.concat([iou, -tf.ones([1, tf.shape(iou)[1]])], axis=0), axis=0)
    is_best = tf.logical_and(tf.equal(iou, gt_best[None, :]), (gt_best > 0.0)[None, :])
    forced = tf.reduce_any(is_best, axis=1)

    positive = tf.logical_or(best_iou >= p.rpn_positive_iou, forced)
    negative = tf.logical_and(best_iou < p.rpn_negative_iou, tf.logical_not(positive))

    # Matched GT: for a forced anchor the GT it is best for (highest IoU among those), else argmax.
    score = tf.where(is_best, iou + 2.0, iou)
    matched = tf.argmax(tf.concat([score, -tf.ones([num_anchors, 1]) * 10.0], axis=1), axis=1,
                        output_type=tf.int32)

    _, pos_idx, pos_keep, neg_idx, neg_keep = _sample_balanced(
        positive, negative, p.rpn_train_anchors, p.rpn_positive_fraction, seed)
    pos_mask = _scatter_mask(pos_idx, pos_keep, num_anchors)
    neg_mask = _scatter_mask(neg_idx, neg_keep, num_anchors)
    labels = tf.where(pos_mask, 1, tf.where(neg_mask, 0, -1))

    deltas = _masked_deltas(anchors, gt_boxes, matched, pos_mask, p.rpn_box_std)
    return tf.cast(labels, tf.int32), deltas


def _masked_deltas(reference, gt_boxes, matched, mask, std):
    """Encode ``reference`` -> ``gt_boxes[matched]`` where ``mask``; exact zeros elsewhere.

    ``matched`` may equal len(gt_boxes) (no GT): a unit dummy box is appended so the gather is
    always in range; unmasked rows are encoded against themselves so no NaN/inf ever appears.
    """
    unit = tf.constant([[0.0, 0.0, 1.0, 1.0]])
    gt_ext = tf.concat([gt_boxes, unit], axis=0)
    ref = tf.where(mask[:, None], reference, unit)
    target = tf.where(mask[:, None], tf.gather(gt_ext, matched), unit)
    return tf.where(mask[:, None], encode_boxes(target, ref, std), 0.0)


def roi_targets(proposals, gt_boxes, gt_class_ids, config, seed=None):
    """Sample training RoIs for the box head on one image.

    ``proposals`` (P,4) xyxy (rows with no area are padding), ``gt_boxes`` (G,4),
    ``gt_class_ids`` (G,) with 0 = padding. The valid GT boxes are appended to the proposals.
    A RoI is foreground when its best IoU with a GT box is >= ``roi_positive_iou`` (0.5) and takes
    that box's class; background when the best IoU lies in [``roi_negative_iou_low``,
    ``roi_positive_iou``) (class 0; an image without GT makes every RoI background).
    ``train_rois`` (R = 50) RoIs are sampled: at most ``roi_positive_fraction`` (50%) foreground,
    the remainder filled with background (torchvision style), zero rows when too few exist.

    Returns ``rois`` (R,4), ``class_targets`` (R,) int32 (class id, 0 background, -1 padding)
    and ``box_targets`` (R,4): eq. 4 offsets RoI -> GT divided by the head std for foreground,
    zeros elsewhere. Foreground rows come first, then background, then padding.
    """
    p = target_params(config)
    proposals = tf.stop_gradient(tf.cast(tf.reshape(proposals, [-1, 4]), tf.float32))
    gt_boxes = tf.cast(tf.reshape(gt_boxes, [-1, 4]), tf.float32)
    gt_class_ids = tf.cast(tf.reshape(gt_class_ids, [-1]), tf.int32)
    seed = _seed_pair(seed)

    gt_valid = tf.logical_and(gt_class_ids > 0, _valid_boxes(gt_boxes))
    # A final empty row keeps every gather in range even with no proposals and no GT.
    rois = tf.concat([proposals, gt_boxes, tf.zeros([1, 4])], axis=0)
    roi_valid = tf.concat([_valid_boxes(proposals), gt_valid, [False]], axis=0)
    num_rois = tf.shape(rois)[0]

    iou = pairwise_iou(rois, gt_boxes)
    iou = tf.where(gt_valid[None, :], iou, 0.0)  # no valid GT -> best IoU 0 -> background
    padded = tf.concat([iou, tf.fill([num_rois, 1], -1.0)], axis=1)
    best_iou = tf.reduce_max(padded, axis=1)
    best_iou = tf.maximum(best_iou, 0.0)
    matched = tf.argmax(padded, axis=1, output_type=tf.int32)

    positive = tf.logical_and(roi_valid, best_iou >= p.roi_positive_iou)
    negative = tf.logical_and(
        roi_valid,
        tf.logical_and(best_iou >= p.roi_negative_iou_low, best_iou < p.roi_positive_iou),
    )

    total = p.train_rois
    max_pos, pos_idx, pos_keep, neg_idx, neg_keep = _sample_balanced(
        positive, negative, total, p.roi_positive_fraction, seed)

    # Compact: kept positives, then kept negatives, then padding; exactly `total` rows.
    cand_idx = tf.concat([pos_idx, neg_idx], axis=0)
    cand_keep = tf.concat([pos_keep, neg_keep], axis=0)
    is_fg_cand = tf.range(max_pos + total) < max_pos
    order = tf.argsort(tf.cast(tf.logical_not(cand_keep), tf.int32), stable=True)[:total]
    sel = tf.gather(cand_idx, order)
    row_keep = tf.gather(cand_keep, order)
    is_fg = tf.logical_and(row_keep, tf.gather(is_fg_cand, order))
    sel_rois = tf.where(row_keep[:, None], tf.gather(rois, sel), 0.0)
    sel_matched = tf.gather(matched, sel)
    class_ext = tf.concat([gt_class_ids, tf.zeros([1], tf.int32)], axis=0)
    sel_class = tf.where(is_fg, tf.gather(class_ext, sel_matched), tf.where(row_keep, 0, -1))
    sel_deltas = _masked_deltas(sel_rois, gt_boxes, sel_matched, is_fg, p.head_box_std)

    return (tf.ensure_shape(sel_rois, [total, 4]),
            tf.ensure_shape(tf.cast(sel_class, tf.int32), [total]),
            tf.ensure_shape(sel_deltas, [total, 4]))


def _image_seeds(seed, batch: tf.Tensor) -> tf.Tensor:
    """(B,2) per-image seeds derived from one seed pair."""
    base = _seed_pair(seed)
    return tf.map_fn(
        lambda i: _fold_in(base, i),
        tf.range(batch),
        fn_output_signature=tf.TensorSpec([2], tf.int32),
    )


def batch_rpn_targets(anchors, gt_boxes, gt_class_ids, config, seed=None):
    """:func:`rpn_targets` over a batch: anchors (A,4) shared, gt (B,G,4) and (B,G).

    Returns labels (B,A) int32 and deltas (B,A,4) float32.
    """
    anchors = tf.cast(anchors, tf.float32)
    gt_boxes = tf.cast(gt_boxes, tf.float32)
    gt_class_ids = tf.cast(gt_class_ids, tf.int32)
    seeds = _image_seeds(seed, tf.shape(gt_boxes)[0])
    return tf.map_fn(
        lambda args: rpn_targets(anchors, args[0], args[1], config, seed=args[2]),
        (gt_boxes, gt_class_ids, seeds),
        fn_output_signature=(tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, 4], tf.float32)),
    )


def batch_roi_targets(proposals, gt_boxes, gt_class_ids, config, seed=None):
    """:func:`roi_targets` over a batch: proposals (B,P,4), gt (B,G,4) and (B,G).

    Returns rois (B,R,4), class_targets (B,R) int32 and box_targets (B,R,4).
    """
    proposals = tf.cast(proposals, tf.float32)
    gt_boxes = tf.cast(gt_boxes, tf.float32)
    gt_class_ids = tf.cast(gt_class_ids, tf.int32)
    r = target_params(config).train_rois
    seeds = _image_seeds(seed, tf.shape(gt_boxes)[0])
    return tf.map_fn(
        lambda args: roi_targets(args[0], args[1], args[2], config, seed=args[3]),
        (proposals, gt_boxes, gt_class_ids, seeds),
        fn_output_signature=(
            tf.TensorSpec([r, 4], tf.float32),
            tf.TensorSpec([r], tf.int32),
            tf.TensorSpec([r, 4], tf.float32),
        ),
    )
