"""The trainable Faster R-CNN graph: backbone -> RPN -> proposals -> RoI targets -> head -> losses.

:class:`TrainingModel` wraps the shared :class:`~temnet_app.detector.model.assembly.DetectorParts`
(the same objects the inference model is built on, so trained weights are the inference weights)
with a custom ``train_step`` / ``test_step`` computing the losses of eq. 1-3 from ground truth.

Data: ``(images, targets)`` with ``images`` (B, H, W, C) 0-255 grey values (H, W multiples of
32) and ``targets`` a dict ``{"boxes": (B, G, 4) xyxy network-input pixels,
"class_ids": (B, G) int}`` padded with class 0 (``(images, boxes, class_ids)`` also works).

Stages (paper 2.4): ``"rpn"`` trains on the RPN losses only; ``"all"`` adds the R-CNN head
losses (RoIs = the RPN's proposals plus the GT boxes, sampled by
:func:`~temnet_app.detector.training.targets.roi_targets`; gradients do not flow through the
proposal coordinates, the usual approximate joint training). Not XLA-compiled: the proposal NMS and
the pyramid RoIAlign use ops XLA lacks, so :meth:`TrainingModel.compile` defaults to
``jit_compile=False``.
"""

from __future__ import annotations

from typing import Optional, Sequence

import keras
import tensorflow as tf

from temnet_app.detector.model.anchors import anchors_tf
from temnet_app.detector.model.assembly import DetectorParts, build_parts, level_features
from temnet_app.detector.model.roi_heads import roi_align
from temnet_app.detector.model.rpn import proposal_layer
from temnet_app.detector.training.losses import detection_losses
from temnet_app.detector.training.targets import batch_roi_targets, batch_rpn_targets

__all__ = ["TrainingModel", "STAGES", "LOSS_KEYS", "unpack_batch"]

STAGES = ("rpn", "all")
LOSS_KEYS = ("total", "rpn_class", "rpn_box", "rcnn_class", "rcnn_box")


def unpack_batch(data):
    """``(images, boxes, class_ids)`` from ``(images, {"boxes", "class_ids"})`` or a 3-tuple."""
    if isinstance(data, (tuple, list)) and len(data) == 3:
        images, boxes, class_ids = data
    elif isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[1], dict):
        images, boxes, class_ids = data[0], data[1]["boxes"], data[1]["class_ids"]
    else:
        raise ValueError("a training batch is (images, {'boxes': ..., 'class_ids': ...}) "
                         "or (images, boxes, class_ids)")
    return (tf.cast(images, tf.float32), tf.cast(boxes, tf.float32),
            tf.cast(class_ids, tf.int32))


class TrainingModel(keras.Model):
    """Keras model whose ``fit`` / ``evaluate`` train and validate the detector parts.

    ``stage`` is ``"rpn"`` or ``"all"``. ``seed`` (an int) makes the target sampling
    reproducible: step ``n`` samples with the seed pair ``(seed, n)``; without it every step
    draws fresh random samples. ``box_weight`` is lambda of eq. 1. ``class_weights``
    (background first) weight the head's classification loss in training steps (not in the
    validation loss). The tracked metrics are
    the running means of ``LOSS_KEYS`` (the head keys only in stage ``"all"``).
    """

    def __init__(self, parts: DetectorParts, stage: str = "all", seed: Optional[int] = None,
                 box_weight: float = 1.0, class_weights: Optional[Sequence[float]] = None,
                 **kwargs):
        super().__init__(**kwargs)
        if stage not in STAGES:
            raise ValueError(f"unknown training stage {stage!r} (choose 'rpn' or 'all')")
        self.parts = parts
        self.config = parts.config
        self.stage = stage
        self.seed = None if seed is None else int(seed)
        self.box_weight = float(box_weight)
        self.class_weights = None if class_weights is None else tuple(
            float(w) for w in class_weights)
        n = self.config.num_classes + 1
        if self.class_weights is not None and len(self.class_weights) != n:
            raise ValueError(f"class_weights needs {n} values "
                             f"(background first), got {len(self.class_weights)}")
        self.features = parts.features
        self.rpn_head = parts.rpn_head
        self.box_head = parts.box_head
        self.proposals = proposal_layer(self.config, training=True, name="train_proposals")
        self.roi_align = roi_align(self.config, name="train_roi_align")
        keys = LOSS_KEYS if stage == "all" else LOSS_KEYS[:3]
        self.loss_trackers = {k: keras.metrics.Mean(name=k) for k in keys}
        self._build_parts()

    @classmethod
    def from_config_object(cls, config, **kwargs) -> "TrainingModel":
        """A training model on freshly initialised parts for a DetectorConfig."""
        return cls(build_parts(config), **kwargs)

    def _build_parts(self) -> None:
        """Create every weight up front (the heads are layers built on first use)."""
        cfg = self.config
        channels = cfg.fpn_channels
        if not self.rpn_head.built:
            self.rpn_head.build([(None, None, None, channels)] * len(cfg.rpn_levels))
        if not self.box_head.built:
            pool = cfg.roi_pool_size
            self.box_head.build((None, None, pool, pool, channels))
        self.built = True

    def compile(self, optimizer="sgd", jit_compile=False, **kwargs):
        """Keras ``compile`` without a loss (the model computes its own); no XLA by default."""
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)

    @property
    def metrics(self):
        return list(self.loss_trackers.values())

    def call(self, images, training=False):
        """RPN outputs ``(logits (B, N), deltas (B, N, 4))`` for ``images``."""
        maps = self.features(images, training=training)
        return self.rpn_head(level_features(self.config, maps, "rpn"))

    def _sample_seed(self):
        if self.seed is None:
            return None
        step = tf.cast(self.optimizer.iterations, tf.int32) if self.optimizer else 0
        return tf.stack([tf.constant(self.seed, tf.int32), step])

    def compute_detection_losses(self, images, gt_boxes, gt_class_ids, training=False,
                                 seed=None) -> dict:
        """The loss dict of :func:`~.losses.detection_losses` for a batch."""
        cfg = self.config
        maps = self.features(images, training=training)
        logits, deltas = self.rpn_head(level_features(cfg, maps, "rpn"))
        hw = tf.shape(images)[1:3]
        anchors = anchors_tf(hw, cfg.rpn_levels, cfg.anchor_scales, cfg.anchor_ratios,
                             cfg.anchor_stride)
        rpn_labels, rpn_targets = batch_rpn_targets(anchors, gt_boxes, gt_class_ids, cfg,
                                                    seed=seed)
        if self.stage == "rpn":
            return detection_losses(rpn_labels, rpn_targets, logits, deltas,
                                    box_weight=self.box_weight)
        proposals, _, _ = self.proposals([images, logits, deltas])
        head_seed = None if seed is None else tf.random.experimental.stateless_fold_in(
            seed, 7, alg="philox")
        rois, class_targets, box_targets = batch_roi_targets(
            tf.stop_gradient(proposals), gt_boxes, gt_class_ids, cfg, seed=head_seed)
        pooled = self.roi_align([rois, *level_features(cfg, maps, "head")])
        class_logits, box_deltas = self.box_head(pooled)
        weights = self.class_weights if training else None  # validation loss stays plain
        return detection_losses(rpn_labels, rpn_targets, logits, deltas, class_targets,
                                box_targets, class_logits, box_deltas,
                                box_weight=self.box_weight, class_weights=weights)

    def _record(self, losses: dict) -> dict:
        for key, tracker in self.loss_trackers.items():
            tracker.update_state(losses[key])
        return {key: tracker.result() for key, tracker in self.loss_trackers.items()}

    def train_step(self, data):
        images, boxes, class_ids = unpack_batch(data)
        seed = self._sample_seed()
        with tf.GradientTape() as tape:
            losses = self.compute_detection_losses(images, boxes, class_ids, training=True,
                                                   seed=seed)
            objective = losses["total"]
            if self.losses:
                objective = objective + tf.add_n([tf.cast(v, tf.float32) for v in self.losses])
        variables = self.trainable_variables
        grads = tape.gradient(objective, variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        self.optimizer.apply_gradients(pairs)
        return self._record(losses)

    def test_step(self, data):
        images, boxes, class_ids = unpack_batch(data)
        losses = self.compute_detection_losses(images, boxes, class_ids, training=False,
                                               seed=self._sample_seed())
        return self._record(losses)
