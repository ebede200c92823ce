"""Faster R-CNN losses (paper eq. 1-3) for the RPN and the box head.

Eq. 1: ``L = 1/N_class * sum_i L_class(p_i, u_i) + lambda * 1/N_RoI * sum_i [u_i >= 1] L_loc(t_i)``
with softmax cross entropy (eq. 2) and smooth-L1 summed over the four offsets (eq. 3).

Normalisation (our reading of eq. 1, the same for both stages): the sums run over the sampled
mini-batch (the anchors with label 0/1, the RoIs with class target >= 0), and both ``N_class``
and ``N_RoI`` are the number of sampled items over the whole batch (Ren et al.'s mini-batch
size; the paper's text calls N_class "the number of classes", but the sum is over RoIs). So the
box term is the smooth-L1 sum over foreground items divided by *all* sampled items, exactly as
the Iverson bracket inside a 1/N_RoI sum reads. With nothing sampled a term is 0; with no
foreground (a background-only crop) both box terms are exactly 0.0 and finite.

Inputs are the targets of :mod:`temnet_app.detector.training.targets`: RPN labels in {1, 0, -1
ignored}, RoI class targets in {class id, 0 background, -1 padding}. Deltas are in the
std-normalised units the targets use. All losses are float32 scalars, computed in float32 whatever
the dtype of the predictions (mixed precision safe).
"""

from __future__ import annotations

import tensorflow as tf

__all__ = [
    "smooth_l1",
    "rpn_class_loss",
    "rpn_box_loss",
    "rcnn_class_loss",
    "rcnn_box_loss",
    "detection_losses",
]


def smooth_l1(diff, beta: float = 1.0) -> tf.Tensor:
    """Elementwise smooth-L1: ``0.5 x^2 / beta`` for ``|x| < beta``, else ``|x| - 0.5 beta``.

    ``beta = 1`` is the Fast R-CNN form used in eq. 3.
    """
    x = tf.abs(tf.cast(diff, tf.float32))
    return tf.where(x < beta, 0.5 * x * x / beta, x - 0.5 * beta)


def _safe_mean(total: tf.Tensor, count: tf.Tensor) -> tf.Tensor:
    """``total / count`` with 0 when count is 0."""
    return tf.math.divide_no_nan(total, tf.cast(count, tf.float32))


def rpn_class_loss(labels, logits) -> tf.Tensor:
    """Objectness cross entropy averaged over the sampled anchors (label 0 or 1).

    ``labels`` (B,A) in {1, 0, -1}; ``logits`` either (B,A) / (B,A,1) single object logits
    (sigmoid cross entropy) or (B,A,2) two-way logits [background, object] (softmax cross
    entropy). The two forms agree when the 2-way logit difference equals the single logit.
    """
    labels = tf.cast(labels, tf.int32)
    logits = tf.cast(logits, tf.float32)
    sampled = labels >= 0
    target = tf.maximum(labels, 0)
    if logits.shape.rank == labels.shape.rank + 1 and logits.shape[-1] == 2:
        per_anchor = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logits)
    else:
        logits = tf.reshape(logits, tf.shape(labels))
        per_anchor = tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.cast(target, tf.float32), logits=logits
        )
    total = tf.reduce_sum(tf.where(sampled, per_anchor, 0.0))
    return _safe_mean(total, tf.reduce_sum(tf.cast(sampled, tf.int32)))


def rpn_box_loss(labels, target_deltas, pred_deltas) -> tf.Tensor:
    """Smooth-L1 over positive anchors, summed over the 4 offsets, divided by sampled anchors.

    ``labels`` (B,A); ``target_deltas`` and ``pred_deltas`` (B,A,4).
    """
    labels = tf.cast(labels, tf.int32)
    target = tf.cast(target_deltas, tf.float32)
    pred = tf.reshape(tf.cast(pred_deltas, tf.float32), tf.shape(target))
    per_anchor = tf.reduce_sum(smooth_l1(pred - target), axis=-1)
    total = tf.reduce_sum(tf.where(labels > 0, per_anchor, 0.0))
    return _safe_mean(total, tf.reduce_sum(tf.cast(labels >= 0, tf.int32)))


def rcnn_class_loss(class_targets, class_logits, class_weights=None) -> tf.Tensor:
    """Softmax cross entropy (eq. 2) averaged over sampled RoIs (class target >= 0).

    ``class_targets`` (B,R) int with -1 for padding; ``class_logits`` (B,R,C), C = classes + 1.
    ``class_weights`` (C,) (index 0 = background), when given, weights each RoI by its
    target's weight and the mean becomes the weighted mean (class-balanced training).
    """
    targets = tf.cast(class_targets, tf.int32)
    logits = tf.cast(class_logits, tf.float32)
    sampled = targets >= 0
    per_roi = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.maximum(targets, 0), logits=logits
    )
    if class_weights is None:
        total = tf.reduce_sum(tf.where(sampled, per_roi, 0.0))
        return _safe_mean(total, tf.reduce_sum(tf.cast(sampled, tf.int32)))
    weight = tf.gather(tf.cast(class_weights, tf.float32), tf.maximum(targets, 0))
    weight = tf.where(sampled, weight, 0.0)
    total = tf.reduce_sum(weight * per_roi)
    return tf.math.divide_no_nan(total, tf.reduce_sum(weight))


def rcnn_box_loss(class_targets, box_targets, pred_deltas) -> tf.Tensor:
    """Smooth-L1 (eq. 3) on the true class's deltas of foreground RoIs, over sampled RoIs.

    ``class_targets`` (B,R) with -1 padding; ``box_targets`` (B,R,4); ``pred_deltas`` per class,
    (B,R,C,4) or (B,R,C*4). Only the deltas predicted for class ``u`` of a RoI with ``u >= 1``
    count (the Iverson bracket of eq. 1); the sum is divided by the number of sampled RoIs.
    """
    targets = tf.cast(class_targets, tf.int32)
    box_targets = tf.cast(box_targets, tf.float32)
    pred = tf.cast(pred_deltas, tf.float32)
    pred = tf.reshape(pred, tf.concat([tf.shape(targets), [-1, 4]], axis=0))
    true_class = tf.maximum(targets, 0)
    chosen = tf.gather(pred, true_class, batch_dims=2)  # (B,R,4)
    per_roi = tf.reduce_sum(smooth_l1(chosen - box_targets), axis=-1)
    total = tf.reduce_sum(tf.where(targets >= 1, per_roi, 0.0))
    return _safe_mean(total, tf.reduce_sum(tf.cast(targets >= 0, tf.int32)))


def detection_losses(
    rpn_labels,
    rpn_target_deltas,
    rpn_logits,
    rpn_pred_deltas,
    class_targets=None,
    box_targets=None,
    class_logits=None,
    pred_box_deltas=None,
    box_weight: float = 1.0,
    class_weights=None,
) -> dict[str, tf.Tensor]:
    """All four losses and their total ``rpn_class + λ rpn_box + rcnn_class + λ rcnn_box``.

    ``box_weight`` is λ of eq. 1 (1 in the paper). Leave the head arguments as None to train
    the RPN alone. ``class_weights``: see :func:`rcnn_class_loss`. Returns a dict with keys
    ``rpn_class``, ``rpn_box``, ``rcnn_class``, ``rcnn_box`` (head keys only when given) and
    ``total``.
    """
    losses = {
        "rpn_class": rpn_class_loss(rpn_labels, rpn_logits),
        "rpn_box": rpn_box_loss(rpn_labels, rpn_target_deltas, rpn_pred_deltas),
    }
    head = (class_targets, box_targets, class_logits, pred_box_deltas)
    if any(v is not None for v in head):
        if any(v is None for v in head):
            raise ValueError("the R-CNN head losses need class_targets, box_targets, "
                             "class_logits and pred_box_deltas together")
        losses["rcnn_class"] = rcnn_class_loss(class_targets, class_logits, class_weights)
        losses["rcnn_box"] = rcnn_box_loss(class_targets, box_targets, pred_box_deltas)
    lam = tf.constant(box_weight, tf.float32)
    total = losses["rpn_class"] + lam * losses["rpn_box"]
    if "rcnn_class" in losses:
        total = total + losses["rcnn_class"] + lam * losses["rcnn_box"]
    losses["total"] = total
    return losses
