"""Windowed GroupNorm statistics (``stats_window``): known answers for the window means, the
fused block against a brute-force GroupNorm over each cell's window, and the plain block's
exact result on inputs no larger than the window (the training crops)."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from temnet_app.detector.model import config as C  # noqa: E402
from temnet_app.detector.model.temnet_block import ConvGroupNormPool, window_means  # noqa: E402


def _brute_window_means(x: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros_like(x, dtype=np.float64)
    _, h, w, _ = x.shape
    r = k // 2
    for i in range(h):
        for j in range(w):
            block = x[:, max(0, i - r):min(h, i + r + 1), max(0, j - r):min(w, j + r + 1)]
            out[:, i, j] = block.mean(axis=(1, 2))
    return out


def test_window_means_known_answers():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (2, 13, 17, 3)).astype("float32")
    np.testing.assert_allclose(window_means(tf.constant(x), 5).numpy(),
                               _brute_window_means(x, 5), rtol=1e-5, atol=1e-5)
    # a window wider than the image is the image mean everywhere
    wide = window_means(tf.constant(x), 41).numpy()
    np.testing.assert_allclose(wide, np.broadcast_to(x.mean(axis=(1, 2), keepdims=True),
                                                     x.shape), rtol=1e-5, atol=1e-5)
    # hand-checked 1-D case: [0, 3, 6, 9] with k = 3 -> [1.5, 3, 6, 7.5]
    ramp = tf.constant(np.array([0, 3, 6, 9], "float32").reshape(1, 4, 1, 1))
    np.testing.assert_allclose(window_means(ramp, 3).numpy().ravel(), [1.5, 3, 6, 7.5])


def test_coarse_window_means_follow_the_exact_ones():
    """Windows of 32+ cells are averaged on a coarser grid: on a slowly varying field (what
    the statistics are) they stay within 2% of the exact means."""
    yy, xx = np.mgrid[0:203, 0:301].astype("float32")
    field = (2.0 + np.sin(xx / 40.0) + np.cos(yy / 55.0))[None, :, :, None]
    got = window_means(tf.constant(field), 64).numpy()
    want = _brute_window_means(field, 64)
    assert np.max(np.abs(got - want)) < 0.02 * np.max(np.abs(want))


def _block_pair(window, rng):
    windowed = ConvGroupNormPool(8, 5, groups=4, stats_window=window)
    plain = ConvGroupNormPool(8, 5, groups=4)
    for block in (windowed, plain):
        block.build((None, None, None, 2))
    for a, b in zip(windowed.weights, plain.weights):
        value = rng.normal(0, 1, a.shape).astype("float32")   # negative gammas too
        a.assign(value)
        b.assign(value)
    return windowed, plain


def test_input_within_the_window_gets_the_plain_statistics():
    rng = np.random.default_rng(5)
    windowed, plain = _block_pair(16, rng)
    x = tf.constant(rng.normal(0, 1, (2, 32, 24, 2)).astype("float32"))   # 16 x 12 cells
    np.testing.assert_allclose(windowed(x).numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-5)


def test_windowed_block_equals_groupnorm_over_each_cells_window():
    rng = np.random.default_rng(7)
    k = 6
    windowed, _ = _block_pair(k, rng)
    x = rng.normal(0, 1, (1, 40, 28, 2)).astype("float32")
    x[:, :, 14:] = 3.0 * x[:, :, 14:] + 5.0          # a brighter, grainier half
    got = windowed(tf.constant(x)).numpy()
    conv = keras.layers.Conv2D(8, 5, padding="same")
    conv.build(x.shape)
    conv.kernel.assign(windowed.kernel)
    conv.bias.assign(windowed.bias)
    y = conv(tf.constant(x)).numpy()[0]              # (40, 28, 8) before normalisation
    gamma, beta = windowed.gamma.numpy(), windowed.beta.numpy()
    r = k // 2
    expected = np.zeros(got.shape[1:])
    for i in range(20):
        for j in range(14):
            rows = slice(2 * max(0, i - r), 2 * min(20, i + r + 1))
            cols = slice(2 * max(0, j - r), 2 * min(14, j + r + 1))
            cell = y[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            for g in range(4):
                chans = slice(2 * g, 2 * g + 2)
                region = y[rows, cols, chans].astype(np.float64)
                normed = (cell[:, :, chans] - region.mean()) / np.sqrt(region.var() + 1e-3)
                out = np.maximum(normed * gamma[chans] + beta[chans], 0.0)
                expected[i, j, chans] = out.max(axis=(0, 1))
    np.testing.assert_allclose(got[0], expected, rtol=1e-3, atol=1e-3)


def test_window_follows_the_training_crop_at_each_block():
    from temnet_app.detector.model.assembly import build_inference_model

    def windows(config):
        blocks = [layer for layer in build_inference_model(config)._flatten_layers()
                  if isinstance(layer, ConvGroupNormPool)]
        return [b.stats_window for b in sorted(blocks, key=lambda b: b.name)]

    assert windows(C.compact()) == [256, 128, 64, 32]   # the 512-px crop at strides 2-16
    assert windows(C.compact(local_norm=False)) == [0, 0, 0, 0]
