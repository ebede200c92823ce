"""Backbone networks: TEMNet (GroupNorm or BatchNorm) and three keras.applications networks.

Each builder maps a normalised image tensor ``(B, H, W, C)`` (H, W multiples of 32) to a dict
``{level: feature}`` of the backbone's own pyramid inputs, level ``k`` having stride ``2**k``:

* ``temnet-gn`` / ``temnet-bn`` (paper 2.4): four ConvBlocks, Conv 'same' (kernels 13, 9, 7, 5;
  8, 16, 32, 64 filters) -> GroupNorm(8) or BatchNorm -> ReLU -> MaxPool 2, and a Gaussian
  noise layer (stddev 0.1, active only in training) after the first pool. The GroupNorm
  blocks run as one fused layer (:mod:`temnet_app.detector.model.temnet_block`). The pool outputs
  C1..C4 have strides 2..16; C2, C3, C4 feed the FPN (as in the research code; C1 is unused).
* ``resnet101``, ``resnet101v2``, ``inception_resnet_v2``: keras.applications with
  ``weights=None``; a LOCAL ImageNet weights file (``config.backbone_weights``) is loaded by us,
  never downloaded, and then every BatchNormalization layer is frozen. Strides 4..32. The
  Inception network pads 'valid', so its maps are zero-padded (or cropped) to the exact
  ``ceil(H / stride)`` size the FPN needs (the paper's "zero padding").
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from temnet_app.core.errors import ModelError
from temnet_app.detector.model.temnet_block import ConvGroupNormPool

TEMNET_KERNELS = (13, 9, 7, 5)
TEMNET_FILTERS = (8, 16, 32, 64)

# keras.applications layer names of the stride 4, 8, 16, 32 outputs. None: found by structure.
_APPLICATION_OUTPUTS = {
    "resnet101": ("conv2_block3_out", "conv3_block4_out", "conv4_block23_out",
                  "conv5_block3_out"),
    # Pre-activation ResNet: the stride moves to the LAST block of each stack, so the stride-4
    # map is the second block's output; the top map is the final post-BN ReLU.
    "resnet101v2": ("conv2_block2_out", "conv3_block3_out", "conv4_block22_out", "post_relu"),
    "inception_resnet_v2": (None, "block35_10_ac", "block17_20_ac", "conv_7b_ac"),
}


@keras.saving.register_keras_serializable(package="temnet")
class PixelNormalization(keras.layers.Layer):
    """``(x - mean) / std`` on 0-255 grey values (the dataset's pixel statistics)."""

    def __init__(self, mean: float = 131.51, std: float = 47.11, **kwargs):
        super().__init__(**kwargs)
        self.mean = float(mean)
        self.std = float(std)

    def call(self, images):
        return (tf.cast(images, tf.float32) - self.mean) / self.std

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std}


@keras.saving.register_keras_serializable(package="temnet")
class FitToStride(keras.layers.Layer):
    """Zero-pad (bottom / right) or crop a feature map to ``ceil(H / stride) x ceil(W / stride)``
    of the reference image, so maps of 'valid'-padded backbones line up for the FPN."""

    def __init__(self, stride: int, **kwargs):
        super().__init__(**kwargs)
        self.stride = int(stride)

    def call(self, inputs):
        feature, image = inputs
        s = self.stride
        target_h = (tf.shape(image)[1] + s - 1) // s
        target_w = (tf.shape(image)[2] + s - 1) // s
        feature = feature[:, :target_h, :target_w, :]
        pad_h = target_h - tf.shape(feature)[1]
        pad_w = target_w - tf.shape(feature)[2]
        return tf.pad(feature, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]])

    def compute_output_shape(self, input_shapes):
        return (input_shapes[0][0], None, None, input_shapes[0][3])

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


def temnet_features(x, config) -> dict:
    """TEMNet pyramid inputs ``{2: C2, 3: C3, 4: C4}`` from a normalised image tensor.

    The GroupNorm blocks use the fused :class:`ConvGroupNormPool` (same maths, faster); the
    BatchNorm ablation uses the plain Keras layers (batch statistics in training).
    """
    out = {}
    for i, (kernel, filters) in enumerate(zip(TEMNET_KERNELS, TEMNET_FILTERS), start=1):
        if config.backbone == "temnet-gn":
            window = config.net_input // 2 ** i if config.local_norm else 0
            x = ConvGroupNormPool(filters, kernel, config.norm_groups, stats_window=window,
                                  name=f"temnet_block{i}")(x)
        else:
            x = keras.layers.Conv2D(filters, kernel, padding="same", name=f"temnet_conv{i}")(x)
            x = keras.layers.BatchNormalization(name=f"temnet_bn{i}")(x)
            x = keras.layers.ReLU(name=f"temnet_relu{i}")(x)
            x = keras.layers.MaxPooling2D(2, strides=2, name=f"temnet_pool{i}")(x)
        if i == 1 and config.gaussian_noise > 0:
            x = keras.layers.GaussianNoise(config.gaussian_noise, name="temnet_noise")(x)
        if i >= 2:
            out[i] = x
    return out


def _application(config, channels: int):
    apps = {"resnet101": keras.applications.ResNet101,
            "resnet101v2": keras.applications.ResNet101V2,
            "inception_resnet_v2": keras.applications.InceptionResNetV2}
    path = config.backbone_weights
    if path and not os.path.isfile(path):
        raise ModelError(f"ImageNet weights file not found: {path}")
    model = apps[config.backbone](include_top=False, weights=None,
                                  input_shape=(None, None, channels))
    if path:
        try:
            model.load_weights(path)
        except Exception as error:  # noqa: BLE001 - any loader failure is a bad weights file
            raise ModelError(f"cannot load ImageNet weights {path} into {config.backbone}: "
                             f"{str(error).splitlines()[0]}") from None
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    return model


def _stride4_of_inception(model):
    """Inception-ResNet-v2's stride-4 map: the input of the last pool before 'mixed_5b'."""
    names = [layer.name for layer in model.layers]
    for layer in reversed(model.layers[:names.index("mixed_5b")]):
        if isinstance(layer, keras.layers.MaxPooling2D):
            return layer.input
    raise ModelError("unexpected Inception-ResNet-v2 structure (no pool before mixed_5b)")


def application_features(x, config) -> dict:
    """ImageNet-network pyramid inputs ``{2: C2, ..., 5: C5}`` from a normalised image tensor."""
    model = _application(config, int(x.shape[-1]))
    outputs = []
    for name in _APPLICATION_OUTPUTS[config.backbone]:
        outputs.append(_stride4_of_inception(model) if name is None
                       else model.get_layer(name).output)
    extractor = keras.Model(model.input, outputs, name=f"{config.backbone}_backbone")
    feats = extractor(x)
    out = {}
    for level, feat in zip((2, 3, 4, 5), feats):
        if config.backbone == "inception_resnet_v2":
            feat = FitToStride(2 ** level, name=f"fit_c{level}")([feat, x])
        out[level] = feat
    return out


def backbone_features(x, config) -> dict:
    """The configured backbone's pyramid inputs ``{level: tensor}`` (see module docstring)."""
    if config.is_temnet:
        return temnet_features(x, config)
    return application_features(x, config)
