"""Second stage: RoI -> pyramid level (eq. 5), pyramid RoIAlign, box head, detection layer.

RoIs and detections are xyxy network-input pixels.

Level rule (paper eq. 5), ``k = floor(4 + log2(sqrt(w h) / 2620))``, clamped to the head's
levels. The paper defines ``w, h`` against 2,620 px, the short side of a whole micrograph, i.e.
in micrograph pixels at the training magnification; the network sees those scaled by
``network_scale = net_input / window`` (512 / 1024 = 0.5). So for a RoI of ``w x h`` network
pixels we use ``sqrt(w h) / network_scale`` (the same in tiled and whole-micrograph mode, as
both resize by that factor). A virion (~265 px at 30,000x, 132 network px) gives
``floor(4 + log2(265 / 2620)) = 0`` -> P2; only a RoI of 1,310 micrograph px (655 network px)
or more reaches P3, 2,620 px P4. (The research code divides network pixels by 2,620 and rounds
instead of flooring; it too sends every realistic RoI to P2.)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from temnet_app.detector.model.box_ops import clip_boxes, decode_boxes
from temnet_app.detector.model.rpn import area_factor, scaled_count


def roi_levels(boxes, network_scale: float, canonical_size: float = 2620.0,
               canonical_level: int = 4, min_level: int = 2, max_level: int = 4) -> tf.Tensor:
    """Pyramid level (int32) of each xyxy box (network pixels) by eq. 5, see module docstring.

    Empty or inverted boxes get ``min_level``.
    """
    boxes = tf.cast(boxes, tf.float32)
    w = tf.maximum(boxes[..., 2] - boxes[..., 0], 0.0)
    h = tf.maximum(boxes[..., 3] - boxes[..., 1], 0.0)
    size = tf.sqrt(tf.maximum(w * h, 1e-12)) / float(network_scale)
    k = tf.floor(float(canonical_level) + tf.math.log(size / float(canonical_size))
                 / tf.math.log(2.0))
    return tf.cast(tf.clip_by_value(k, float(min_level), float(max_level)), tf.int32)


@keras.saving.register_keras_serializable(package="temnet")
class PyramidRoIAlign(keras.layers.Layer):
    """RoIAlign on the level eq. 5 picks: ``call([rois (B, R, 4), *features])`` ->
    ``(B, R, pool, pool, C)``.

    Each of the ``pool x pool`` bins averages ``samples x samples`` bilinear samples taken at
    the centres of a regular sub-grid of the bin (He et al.'s RoIAlign, no quantisation). We
    use ``tf.image.crop_and_resize`` to sample the ``pool * samples`` grid: its first and last
    samples are placed on the first and last sub-bin centres, converted to feature coordinates
    ``u = x / stride - 0.5`` (cell ``i`` of a level is centred on pixel ``(i + 0.5) stride``);
    then a ``samples x samples`` average pool. Samples outside the map read 0.
    """

    def __init__(self, levels, pool_size: int = 7, samples: int = 2,
                 network_scale: float = 0.5, canonical_size: float = 2620.0,
                 canonical_level: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.levels = [int(v) for v in levels]
        self.pool_size = int(pool_size)
        self.samples = int(samples)
        self.network_scale = float(network_scale)
        self.canonical_size = float(canonical_size)
        self.canonical_level = int(canonical_level)

    def call(self, inputs):
        rois, features = inputs[0], inputs[1:]
        batch, count = tf.shape(rois)[0], tf.shape(rois)[1]
        flat = tf.stop_gradient(tf.reshape(tf.cast(rois, tf.float32), [-1, 4]))
        image_index = tf.repeat(tf.range(batch), count)
        level_of = roi_levels(flat, self.network_scale, self.canonical_size,
                              self.canonical_level, self.levels[0], self.levels[-1])
        n = self.pool_size * self.samples
        parts, positions = [], []
        for level, feature in zip(self.levels, features):
            idx = tf.cast(tf.where(tf.equal(level_of, level))[:, 0], tf.int32)
            x1, y1, x2, y2 = tf.unstack(tf.gather(flat, idx), axis=-1)
            stride = float(2 ** level)
            half_w = 0.5 * (x2 - x1) / n
            half_h = 0.5 * (y2 - y1) / n
            fh = tf.maximum(tf.cast(tf.shape(feature)[1], tf.float32) - 1.0, 1.0)
            fw = tf.maximum(tf.cast(tf.shape(feature)[2], tf.float32) - 1.0, 1.0)
            norm = tf.stack([((y1 + half_h) / stride - 0.5) / fh,
                             ((x1 + half_w) / stride - 0.5) / fw,
                             ((y2 - half_h) / stride - 0.5) / fh,
                             ((x2 - half_w) / stride - 0.5) / fw], axis=-1)
            crops = tf.image.crop_and_resize(feature, norm, tf.gather(image_index, idx), [n, n],
                                             method="bilinear", extrapolation_value=0.0)
            if self.samples > 1:
                crops = tf.nn.avg_pool2d(crops, self.samples, self.samples, "VALID")
            parts.append(crops)
            positions.append(idx)
        pooled = tf.dynamic_stitch(positions, parts)
        channels = features[0].shape[-1]
        return tf.reshape(pooled, [batch, count, self.pool_size, self.pool_size, channels])

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], input_shape[0][1], self.pool_size, self.pool_size,
                input_shape[1][-1])

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "pool_size": self.pool_size,
                "samples": self.samples, "network_scale": self.network_scale,
                "canonical_size": self.canonical_size, "canonical_level": self.canonical_level}


@keras.saving.register_keras_serializable(package="temnet")
class BoxHead(keras.layers.Layer):
    """Two fully connected ReLU layers -> class logits ``(B, R, K + 1)`` (0 = background) and
    per-class deltas ``(B, R, K + 1, 4)`` (eq. 4 offsets / ``head_box_std``)."""

    def __init__(self, units: int, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.num_classes = int(num_classes)
        self.fc1 = keras.layers.Dense(self.units, activation="relu", name="head_fc1")
        self.fc2 = keras.layers.Dense(self.units, activation="relu", name="head_fc2")
        self.class_logits = keras.layers.Dense(self.num_classes + 1, name="head_class_logits",
                                               kernel_initializer=keras.initializers.RandomNormal(
                                                   stddev=0.01))
        self.box_deltas = keras.layers.Dense(4 * (self.num_classes + 1), name="head_deltas",
                                             kernel_initializer=keras.initializers.RandomNormal(
                                                 stddev=0.001))

    def build(self, input_shape):
        flat = int(input_shape[2]) * int(input_shape[3]) * int(input_shape[4])
        self.fc1.build((None, flat))
        self.fc2.build((None, self.units))
        self.class_logits.build((None, self.units))
        self.box_deltas.build((None, self.units))

    def call(self, pooled):
        shape = tf.shape(pooled)
        flat = pooled.shape[2] * pooled.shape[3] * pooled.shape[4]
        x = tf.reshape(pooled, [shape[0], shape[1], flat])
        x = self.fc2(self.fc1(x))
        deltas = tf.reshape(self.box_deltas(x), [shape[0], shape[1], self.num_classes + 1, 4])
        return self.class_logits(x), deltas

    def compute_output_shape(self, input_shape):
        b, r = input_shape[0], input_shape[1]
        return (b, r, self.num_classes + 1), (b, r, self.num_classes + 1, 4)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="temnet")
class DetectionLayer(keras.layers.Layer):
    """Head outputs -> final detections, fixed size and zero-padded per image.

    ``call([images, rois, valid_rois, class_logits, deltas])`` -> ``(boxes (B, D, 4),
    scores (B, D), class_ids (B, D) int32 (1..K, 0 = padding), valid (B,))``: softmax, drop
    background, decode each class's deltas on its RoI, clip to the image, per-class NMS at
    ``nms_iou``, keep scores above ``min_confidence``, best ``max_detections`` (per ``net_input``
    square of input area) by score. Padding RoIs (index >= valid_rois) score 0.
    """

    def __init__(self, box_std, nms_iou: float = 0.3, min_confidence: float = 0.05,
                 max_detections: int = 100, net_input: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.box_std = [float(v) for v in box_std]
        self.nms_iou = float(nms_iou)
        self.min_confidence = float(min_confidence)
        self.max_detections = int(max_detections)
        self.net_input = int(net_input)

    def call(self, inputs):
        images, rois, valid_rois, class_logits, deltas = inputs
        hw = tf.shape(images)[1:3]
        probs = tf.nn.softmax(tf.cast(class_logits, tf.float32), axis=-1)
        real = tf.range(tf.shape(rois)[1])[None, :] < tf.cast(valid_rois, tf.int32)[:, None]
        scores = tf.where(real[:, :, None], probs[:, :, 1:], 0.0)
        boxes = decode_boxes(tf.cast(deltas, tf.float32)[:, :, 1:, :],
                             tf.cast(rois, tf.float32)[:, :, None, :], self.box_std)
        boxes = clip_boxes(boxes, hw[0], hw[1])
        count = scaled_count(self.max_detections, area_factor(hw, self.net_input))
        nms = tf.image.combined_non_max_suppression(
            boxes, scores, max_output_size_per_class=count, max_total_size=count,
            iou_threshold=self.nms_iou, score_threshold=self.min_confidence,
            pad_per_class=False, clip_boxes=False)
        kept = tf.range(tf.shape(nms.nmsed_scores)[1])[None, :] < nms.valid_detections[:, None]
        class_ids = tf.where(kept, tf.cast(nms.nmsed_classes, tf.int32) + 1, 0)
        return nms.nmsed_boxes, nms.nmsed_scores, class_ids, nms.valid_detections

    def compute_output_shape(self, input_shape):
        b = input_shape[0][0]
        return (b, None, 4), (b, None), (b, None), (b,)

    def get_config(self):
        return {**super().get_config(), "box_std": self.box_std, "nms_iou": self.nms_iou,
                "min_confidence": self.min_confidence, "max_detections": self.max_detections,
                "net_input": self.net_input}


def roi_align(config, name: str = "roi_align") -> PyramidRoIAlign:
    return PyramidRoIAlign(config.head_levels, config.roi_pool_size, config.roi_samples,
                           config.network_scale, config.roi_canonical_size,
                           config.roi_canonical_level, name=name)


def box_head(config, name: str = "box_head") -> BoxHead:
    return BoxHead(config.fc_units, config.num_classes, name=name)


def detection_layer(config, name: str = "detections") -> DetectionLayer:
    return DetectionLayer(config.head_box_std, config.detection_nms_iou, config.min_confidence,
                          config.max_detections, config.net_input, name=name)
