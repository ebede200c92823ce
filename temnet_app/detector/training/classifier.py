"""The backbone as a virion classifier, for the paper's pre-training stage (2.4).

:func:`build_classifier` puts a small head on the detector's own backbone: the coarsest
backbone map (the input of the FPN's top lateral conv: C4 for TEMNet, C5 for the ResNets) ->
global average pooling -> a fully connected ReLU layer of ``config.fc_units`` -> a fully
connected layer of one logit per class (softmax in the loss), the paper's "two fully-connected
layers and soft max output". The backbone layers are the SAME objects as in the detector's
:class:`~temnet_app.detector.model.assembly.DetectorParts`, so training the classifier trains the
detector's backbone; the head is dropped afterwards. The FPN, RPN and box head are not touched.

:func:`classifier_dataset` streams :class:`~temnet_app.detector.data.virion_crops.VirionCrops`
through the detector's augmentation (flips, transpose, 180 degree rotation, noise, brightness; a
fresh random draw per crop and epoch).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from temnet_app.detector.model.assembly import DetectorParts

__all__ = ["backbone_model", "build_classifier", "classifier_dataset", "HEAD_PREFIX"]

HEAD_PREFIX = "virion_classifier_"


def backbone_model(parts: DetectorParts) -> keras.Model:
    """Images ``(B, H, W, C)`` 0-255 grey -> the coarsest backbone map, sharing the layers of
    ``parts.features`` (pixel normalisation included)."""
    features = parts.features
    laterals = [layer for layer in features.layers if layer.name.startswith("fpn_lateral")]
    if not laterals:
        raise ValueError("the feature extractor has no FPN lateral convolutions")
    top = max(laterals, key=lambda layer: int(layer.name[len("fpn_lateral"):]))
    return keras.Model(features.input, top.input, name="backbone")


def build_classifier(parts: DetectorParts, side: int) -> keras.Model:
    """``(B, side, side, C)`` crops -> ``(B, K)`` class logits (see the module docstring)."""
    config = parts.config
    crops = keras.Input((side, side, config.input_channels), name="virion_crops")
    x = backbone_model(parts)(crops)
    x = keras.layers.GlobalAveragePooling2D(name=f"{HEAD_PREFIX}pool")(x)
    x = keras.layers.Dense(config.fc_units, activation="relu", name=f"{HEAD_PREFIX}fc1")(x)
    logits = keras.layers.Dense(config.num_classes, name=f"{HEAD_PREFIX}logits")(x)
    return keras.Model(crops, logits, name="virion_classifier")


def classifier_dataset(crops, config, training: bool, batch_size: int, seed: int = 0,
                       augmentation=None) -> tf.data.Dataset:
    """Batches ``(images (B, S, S, C) float32 0-255, labels (B,) int32)``; one pass per epoch.
    Training shuffles every epoch and augments (``augmentation``: AugmentSettings, default
    settings when None); validation keeps the crops' order."""
    from temnet_app.detector.data.augment import AugmentSettings, augment

    if len(crops) == 0:
        raise ValueError("no virion crops")
    aug = augmentation if augmentation is not None else AugmentSettings()
    channels = int(config.input_channels)
    ds = tf.data.Dataset.from_tensor_slices((crops.images, crops.labels))
    if training:
        ds = ds.shuffle(len(crops), seed=seed, reshuffle_each_iteration=True)
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip((ds, draws))
    else:
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.from_tensors(tf.constant(0, tf.int64))
                                  .repeat()))
    no_boxes = tf.zeros((1, 4), tf.float32)
    no_ids = tf.zeros((1,), tf.int32)

    def prepare(pair, draw):
        image, label = pair
        if training:
            image, _ = augment(image, no_boxes, no_ids, draw, aug)
        image = tf.cast(image, tf.float32)
        return tf.tile(image[:, :, None], [1, 1, channels]), label

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)
