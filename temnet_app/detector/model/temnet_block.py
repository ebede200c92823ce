"""TEMNet's ConvBlock (Conv 'same' -> GroupNorm -> ReLU -> MaxPool 2) as one fast layer.

Mathematically identical to ``Conv2D(k, padding='same') -> GroupNormalization(groups) -> ReLU
-> MaxPooling2D(2)``, but arranged for CPU speed on the large early maps:

1. Space-to-depth convolution. A stride-1 k x k conv (k odd) followed by a 2x2 pool equals a
   valid ``M x M`` conv (``M = (k + 1) / 2``) on the 2x2 space-to-depth of the zero-padded
   input, whose ``4 * filters`` outputs are the conv values at the four pixels of each pool
   cell ("phases"): phase ``(di, dj)`` uses the kernel shifted by ``(di, dj)`` inside a
   ``2M x 2M`` frame. Wider channels make the 1- and 8-channel early convs efficient, and the
   pool becomes a reduction over the phase axis.
2. Pool before normalise. GroupNorm is a per-sample, per-channel affine map ``a x + b`` once
   its statistics are known, and ReLU is monotone, so ``maxpool(relu(a x + b)) =
   relu(a * P(x) + b)`` with ``P`` the max over the pool cell where ``a >= 0`` and the min
   where ``a < 0``. The affine map and ReLU then run on a quarter of the values.
3. The conv bias is never added to the full map: it shifts each channel's mean and folds into
   ``b`` (variances are unchanged).

Statistics are exact two-pass moments per channel and phase, combined by the law of total
variance (equal counts). Weights: ``kernel (k, k, in, filters)``, ``bias``, ``gamma``, ``beta``,
as the separate Keras layers would hold them.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def phase_kernel(kernel: tf.Tensor) -> tf.Tensor:
    """``(k, k, cin, cout)`` kernel (k odd) -> ``(M, M, 4 cin, 4 cout)`` space-to-depth kernel.

    Input channel ``(2 r + s) * cin + c`` is pixel ``(r, s)`` of a 2x2 cell (the order of
    ``tf.nn.space_to_depth``); output channel ``(2 di + dj) * cout + o`` is the conv value at
    pixel ``(di, dj)`` of the output cell.
    """
    k = kernel.shape[0]
    m = (k + 1) // 2
    cin, cout = kernel.shape[2], kernel.shape[3]
    phases = []
    for di in (0, 1):
        for dj in (0, 1):
            shifted = tf.pad(kernel, [[di, 2 * m - k - di], [dj, 2 * m - k - dj], [0, 0], [0, 0]])
            shifted = tf.reshape(shifted, [m, 2, m, 2, cin, cout])
            shifted = tf.transpose(shifted, [0, 2, 1, 3, 4, 5])
            phases.append(tf.reshape(shifted, [m, m, 4 * cin, cout]))
    return tf.concat(phases, axis=-1)


@keras.saving.register_keras_serializable(package="temnet")
class ConvGroupNormPool(keras.layers.Layer):
    """``Conv2D(filters, kernel_size, 'same') -> GroupNorm(groups) -> ReLU -> MaxPool(2)``.

    Input ``(B, H, W, C)`` with H, W even; output ``(B, H / 2, W / 2, filters)``.
    ``epsilon`` 1e-3 is the GroupNormalization default the research code used.
    """

    def __init__(self, filters: int, kernel_size: int, groups: int = 8,
                 epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        if filters % groups:
            raise ValueError(f"groups ({groups}) must divide filters ({filters})")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.groups = int(groups)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        cin = int(input_shape[-1])
        k, f = self.kernel_size, self.filters
        self.kernel = self.add_weight(name="kernel", shape=(k, k, cin, f),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(f,), initializer="zeros")
        self.gamma = self.add_weight(name="gamma", shape=(f,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(f,), initializer="zeros")

    def call(self, x):
        f, g, p = self.filters, self.groups, (self.kernel_size - 1) // 2
        x = tf.pad(tf.cast(x, tf.float32), [[0, 0], [p, p], [p, p], [0, 0]])
        z = tf.nn.conv2d(tf.nn.space_to_depth(x, 2), phase_kernel(self.kernel), 1, "VALID")
        shape = tf.shape(z)
        z = tf.reshape(z, [shape[0], shape[1], shape[2], 4, f])
        # Moments per (image, phase, channel), then per channel, then per group.
        mean_pc, var_pc = tf.nn.moments(z, axes=[1, 2])                  # (B, 4, f)
        mean_c = tf.reduce_mean(mean_pc, axis=1)                         # (B, f)
        var_c = tf.reduce_mean(var_pc + tf.square(mean_pc - mean_c[:, None, :]), axis=1)
        mean_c = mean_c + self.bias                                      # bias folded in
        grouped_mean = tf.reshape(mean_c, [-1, g, f // g])
        grouped_var = tf.reshape(var_c, [-1, g, f // g])
        mean_g = tf.reduce_mean(grouped_mean, axis=2, keepdims=True)
        var_g = tf.reduce_mean(grouped_var + tf.square(grouped_mean - mean_g), axis=2,
                               keepdims=True)
        inv = tf.reshape(tf.broadcast_to(tf.math.rsqrt(var_g + self.epsilon), tf.shape(
            grouped_mean)), [-1, f])
        mean_g = tf.reshape(tf.broadcast_to(mean_g, tf.shape(grouped_mean)), [-1, f])
        scale = self.gamma * inv                                         # (B, f)
        shift = self.beta + scale * (self.bias - mean_g)
        scale4 = scale[:, None, None, :]
        pooled = tf.where(scale4 >= 0.0, tf.reduce_max(z, axis=3), tf.reduce_min(z, axis=3))
        return tf.nn.relu(pooled * scale4 + shift[:, None, None, :])

    def compute_output_shape(self, input_shape):
        b, h, w = input_shape[0], input_shape[1], input_shape[2]
        half = lambda n: None if n is None else n // 2  # noqa: E731
        return (b, half(h), half(w), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "groups": self.groups,
                "epsilon": self.epsilon}
