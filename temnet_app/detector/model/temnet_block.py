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

Windowed statistics (``stats_window`` > 0). The network is trained on square crops whose side
``stats_window`` cells (here: the training crop at this block's resolution) is the area its
GroupNorm statistics cover. On a larger input (a whole micrograph) the plain layer would
normalise by the statistics of the whole image, which differ from any crop's wherever
illumination, stain, debris or an info band vary across the micrograph (measured: 78.9 against
88.5 mAP@0.5 on appearance-shifted micrographs). With a window, each cell is normalised by the
statistics of the ``stats_window``-sided square centred on it, cut at the image edges
(:func:`window_means`; shifting edge windows inward, as the tiling does, scored 2 points
lower). An input no larger than the window gets exactly the plain layer's statistics.
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
                 epsilon: float = 1e-3, stats_window: int = 0, **kwargs):
        super().__init__(**kwargs)
        if stats_window < 0:
            raise ValueError(f"stats_window must be 0 or positive, got {stats_window}")
        self.stats_window = int(stats_window)
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
        f, p = self.filters, (self.kernel_size - 1) // 2
        x = tf.pad(tf.cast(x, tf.float32), [[0, 0], [p, p], [p, p], [0, 0]])
        z = tf.nn.conv2d(tf.nn.space_to_depth(x, 2), phase_kernel(self.kernel), 1, "VALID")
        shape = tf.shape(z)
        z = tf.reshape(z, [shape[0], shape[1], shape[2], 4, f])
        if not self.stats_window:
            return self._normalise_global(z)
        k = self.stats_window
        return tf.cond(tf.logical_and(shape[1] <= k, shape[2] <= k),
                       lambda: self._normalise_global(z), lambda: self._normalise_windowed(z))

    def _normalise_global(self, z):
        f, g = self.filters, self.groups
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

    def _normalise_windowed(self, z):
        f, g = self.filters, self.groups
        size = f // g
        # Per cell: first and second moments of (z + bias) over the 4 phases and the group's
        # channels, then their means over each cell's window.
        a = tf.reduce_mean(z, axis=3)                                    # (B, H, W, f)
        q = tf.reduce_mean(tf.square(z), axis=3)
        first = window_means(_group_mean(a + self.bias, g), self.stats_window)   # (B, H, W, g)
        second = window_means(_group_mean(q + 2.0 * self.bias * a + tf.square(self.bias), g),
                              self.stats_window)
        inv = tf.math.rsqrt(tf.maximum(second - tf.square(first), 0.0) + self.epsilon)
        pooled = tf.where(self.gamma >= 0.0, tf.reduce_max(z, axis=3), tf.reduce_min(z, axis=3))
        shape = tf.shape(pooled)
        grouped = tf.reshape(pooled + self.bias, [shape[0], shape[1], shape[2], g, size])
        gamma = tf.reshape(self.gamma, [g, size])
        beta = tf.reshape(self.beta, [g, size])
        out = (grouped - first[..., None]) * (inv[..., None] * gamma) + beta
        return tf.nn.relu(tf.reshape(out, shape))

    def compute_output_shape(self, input_shape):
        b, h, w = input_shape[0], input_shape[1], input_shape[2]
        half = lambda n: None if n is None else n // 2  # noqa: E731
        return (b, half(h), half(w), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "groups": self.groups,
                "epsilon": self.epsilon, "stats_window": self.stats_window}


def _group_mean(x, groups: int):
    """``(B, H, W, f)`` -> ``(B, H, W, groups)``: the mean over each group's channels."""
    shape = tf.shape(x)
    return tf.reduce_mean(tf.reshape(x, [shape[0], shape[1], shape[2], groups, -1]), axis=4)


def _window_axis(x, axis: int, k: int):
    n = tf.shape(x)[axis]
    total = tf.cumsum(x, axis=axis)
    total = tf.concat([tf.zeros_like(tf.gather(total, [0], axis=axis)), total], axis=axis)
    lo = tf.maximum(tf.range(n) - k // 2, 0)
    hi = tf.minimum(tf.range(n) + k // 2 + 1, n)
    sums = tf.gather(total, hi, axis=axis) - tf.gather(total, lo, axis=axis)
    counts = tf.cast(hi - lo, x.dtype)
    return sums / tf.reshape(counts, tf.concat([[-1], tf.ones([3 - axis], tf.int32)], 0))


def window_means(x, k: int):
    """Mean of ``x`` ``(B, H, W, C)`` over, for each cell, the ``k x k`` window centred on it
    (cut at the image edges). The windows are wide and the means vary slowly, so for ``k`` of
    32 cells and more they are taken on a grid ``k / 16`` times coarser (sums and cell counts
    pooled, window means of those, resized back bilinearly): a fraction of the exact cost."""
    step = max(1, k // 16)
    if step == 1:
        return _window_axis(_window_axis(x, 1, k), 2, k)
    shape = tf.shape(x)
    pad = [[0, 0], [0, (-shape[1]) % step], [0, (-shape[2]) % step], [0, 0]]
    sums = tf.nn.avg_pool2d(tf.pad(x, pad), step, step, "VALID")
    counts = tf.nn.avg_pool2d(tf.pad(tf.ones_like(x[..., :1]), pad), step, step, "VALID")
    kc = k // step
    means = (_window_axis(_window_axis(sums, 1, kc), 2, kc)
             / _window_axis(_window_axis(counts, 1, kc), 2, kc))
    coarse = tf.shape(means)
    fine = tf.image.resize(means, [coarse[1] * step, coarse[2] * step], method="bilinear")
    return fine[:, :shape[1], :shape[2]]
