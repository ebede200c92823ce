"""Region Proposal Network: a head shared over pyramid levels, and the proposal layer.

Outputs follow the anchor order of :mod:`temnet_app.detector.model.anchors` (level, row, column,
ratio). Objectness is one logit per anchor (sigmoid); deltas are eq. 4 offsets divided by
``rpn_box_std``. Boxes are xyxy network-input pixels.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from temnet_app.detector.model.anchors import anchors_tf
from temnet_app.detector.model.box_ops import clip_boxes, decode_boxes


@keras.saving.register_keras_serializable(package="temnet")
class RPNHead(keras.layers.Layer):
    """3x3 conv (``channels``, ReLU) -> 1x1 objectness and 1x1 deltas, weights shared by levels.

    With ``anchor_stride = t`` the 3x3 conv runs with stride ``t`` on the map zero-padded by
    one cell all round, so output ``j`` is centred on feature cell ``t * j`` and there are
    ``ceil(n / t)`` outputs per side: exactly the anchor cells (identical to evaluating a
    stride-1 'same' conv and keeping every ``t``-th cell, at ``1 / t**2`` the cost).

    ``call(features)`` takes the list of level maps (finest first) and returns
    ``(logits (B, N), deltas (B, N, 4))`` over all N anchors.
    """

    def __init__(self, channels: int, anchors_per_location: int, anchor_stride: int = 1,
                 **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.anchors_per_location = int(anchors_per_location)
        self.anchor_stride = int(anchor_stride)
        self.conv = keras.layers.Conv2D(self.channels, 3, strides=self.anchor_stride,
                                        padding="valid", activation="relu", name="rpn_conv")
        self.objectness = keras.layers.Conv2D(self.anchors_per_location, 1,
                                              name="rpn_objectness")
        self.deltas = keras.layers.Conv2D(4 * self.anchors_per_location, 1, name="rpn_deltas",
                                          kernel_initializer=keras.initializers.RandomNormal(
                                              stddev=0.01))

    def build(self, input_shape):
        channels = input_shape[0][-1]
        self.conv.build((None, None, None, channels))
        self.objectness.build((None, None, None, self.channels))
        self.deltas.build((None, None, None, self.channels))

    def call(self, features):
        logits, deltas = [], []
        for feature in features:
            x = tf.pad(feature, [[0, 0], [1, 1], [1, 1], [0, 0]])
            x = self.conv(x)
            batch = tf.shape(x)[0]
            logits.append(tf.reshape(self.objectness(x), [batch, -1]))
            deltas.append(tf.reshape(self.deltas(x), [batch, -1, 4]))
        return tf.concat(logits, axis=1), tf.concat(deltas, axis=1)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0][0]
        return (batch, None), (batch, None, 4)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels,
                "anchors_per_location": self.anchors_per_location,
                "anchor_stride": self.anchor_stride}


def area_factor(image_hw, net_input: int):
    """How many ``net_input`` squares the input covers (at least 1), as a float tensor."""
    hw = tf.cast(image_hw, tf.float32)
    return tf.maximum(1.0, hw[0] * hw[1] / float(net_input * net_input))


def scaled_count(count: int, factor) -> tf.Tensor:
    """``ceil(count * factor)`` as int32: per-window budgets grown for larger inputs."""
    return tf.cast(tf.math.ceil(float(count) * factor - 1e-6), tf.int32)


@keras.saving.register_keras_serializable(package="temnet")
class ProposalLayer(keras.layers.Layer):
    """RPN outputs -> proposals: decode, clip, top-k, NMS, fixed-size padded output.

    ``call([images, logits, deltas])`` -> ``(proposals (B, R, 4), scores (B, R), valid (B,))``.
    Anchors come from the image size inside the graph, so any H, W works with one trace.
    Per image: the ``pre_nms_top_k`` best anchors by objectness are decoded, clipped to the
    image, boxes narrower or lower than 1 px dropped, NMS at ``nms_iou``; at most
    ``proposal_count`` proposals, best first, zero-padded (``valid`` counts the real ones).
    Both counts are per ``net_input`` square and grow with the input area (whole micrographs).
    """

    def __init__(self, levels, scales, ratios, anchor_stride: int, box_std,
                 pre_nms_top_k: int, proposal_count: int, nms_iou: float, net_input: int,
                 **kwargs):
        super().__init__(**kwargs)
        self.levels = [int(v) for v in levels]
        self.scales = [float(v) for v in scales]
        self.ratios = [float(v) for v in ratios]
        self.anchor_stride = int(anchor_stride)
        self.box_std = [float(v) for v in box_std]
        self.pre_nms_top_k = int(pre_nms_top_k)
        self.proposal_count = int(proposal_count)
        self.nms_iou = float(nms_iou)
        self.net_input = int(net_input)

    def call(self, inputs):
        images, logits, deltas = inputs
        hw = tf.shape(images)[1:3]
        anchors = anchors_tf(hw, self.levels, self.scales, self.ratios, self.anchor_stride)
        factor = area_factor(hw, self.net_input)
        scores = tf.sigmoid(tf.cast(logits, tf.float32))
        k = tf.minimum(scaled_count(self.pre_nms_top_k, factor), tf.shape(scores)[1])
        top_scores, idx = tf.math.top_k(scores, k=k, sorted=True)
        top_deltas = tf.gather(tf.cast(deltas, tf.float32), idx, batch_dims=1)
        boxes = decode_boxes(top_deltas, tf.gather(anchors, idx), self.box_std)
        boxes = clip_boxes(boxes, hw[0], hw[1])
        big = tf.logical_and(boxes[..., 2] - boxes[..., 0] >= 1.0,
                             boxes[..., 3] - boxes[..., 1] >= 1.0)
        top_scores = tf.where(big, top_scores, 0.0)
        count = scaled_count(self.proposal_count, factor)
        nms = tf.image.combined_non_max_suppression(
            boxes[:, :, None, :], top_scores[:, :, None], max_output_size_per_class=count,
            max_total_size=count, iou_threshold=self.nms_iou, score_threshold=1e-9,
            pad_per_class=False, clip_boxes=False)
        return nms.nmsed_boxes, nms.nmsed_scores, nms.valid_detections

    def compute_output_shape(self, input_shape):
        batch = input_shape[0][0]
        return (batch, None, 4), (batch, None), (batch,)

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "scales": self.scales,
                "ratios": self.ratios, "anchor_stride": self.anchor_stride,
                "box_std": self.box_std, "pre_nms_top_k": self.pre_nms_top_k,
                "proposal_count": self.proposal_count, "nms_iou": self.nms_iou,
                "net_input": self.net_input}


def proposal_layer(config, training: bool = False, name: str = "proposals") -> ProposalLayer:
    """A :class:`ProposalLayer` with ``config``'s settings (training uses its own RoI count)."""
    return ProposalLayer(config.rpn_levels, config.anchor_scales, config.anchor_ratios,
                         config.anchor_stride, config.rpn_box_std, config.pre_nms_top_k,
                         config.train_post_nms_rois if training else config.post_nms_rois,
                         config.rpn_nms_iou, config.net_input, name=name)


def rpn_head(config, name: str = "rpn_head") -> RPNHead:
    return RPNHead(config.rpn_channels, config.anchors_per_location, config.anchor_stride,
                   name=name)

