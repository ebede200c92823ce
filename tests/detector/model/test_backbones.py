"""Backbones and FPN: the fused TEMNet block equals the plain Keras layers; every backbone
builds, gives the pyramid shapes the anchors assume, and runs end to end."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from temnet_app.core.errors import ModelError  # noqa: E402
from temnet_app.detector.model import config as C  # noqa: E402
from temnet_app.detector.model.assembly import build_inference_model  # noqa: E402
from temnet_app.detector.model.fpn import build_feature_extractor  # noqa: E402
from temnet_app.detector.model.temnet_block import ConvGroupNormPool  # noqa: E402


@pytest.mark.parametrize("kernel, cin, filters", [(13, 1, 8), (9, 8, 16), (5, 3, 16)])
def test_fused_block_equals_conv_groupnorm_relu_pool(kernel, cin, filters):
    rng = np.random.default_rng(kernel)
    x = tf.constant(rng.normal(0, 1, (2, 24, 40, cin)).astype("float32"))
    fused = ConvGroupNormPool(filters, kernel, groups=8)
    fused.build(x.shape)
    for var in (fused.kernel, fused.bias, fused.gamma, fused.beta):
        var.assign(rng.normal(0, 1, var.shape).astype("float32"))  # negative gammas too
    conv = keras.layers.Conv2D(filters, kernel, padding="same")
    conv.build(x.shape)
    conv.kernel.assign(fused.kernel)
    conv.bias.assign(fused.bias)
    norm = keras.layers.GroupNormalization(groups=8, epsilon=1e-3)
    norm.build((None, 24, 40, filters))
    norm.gamma.assign(fused.gamma)
    norm.beta.assign(fused.beta)
    expected = tf.nn.max_pool2d(tf.nn.relu(norm(conv(x))), 2, 2, "VALID").numpy()
    got = fused(x).numpy()
    assert got.shape == (2, 12, 20, filters)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_fused_block_is_trainable():
    block = ConvGroupNormPool(8, 5, groups=4)
    x = tf.random.stateless_normal((1, 8, 8, 2), seed=(1, 2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(block(x) ** 2)
    grads = tape.gradient(loss, block.trainable_weights)
    assert len(grads) == 4 and all(g is not None for g in grads)
    assert float(tf.reduce_sum(tf.abs(grads[0]))) > 0


@pytest.mark.parametrize("cfg", [C.paper(), C.compact(), C.paper(backbone="temnet-bn")])
def test_temnet_pyramid_shapes(cfg):
    model = build_feature_extractor(cfg)
    maps = model(np.zeros((1, 96, 160, cfg.input_channels), np.float32))
    assert len(maps) == len(cfg.pyramid_levels)
    for level, fmap in zip(cfg.pyramid_levels, maps):
        s = 2 ** level
        assert tuple(fmap.shape) == (1, -(-96 // s), -(-160 // s), cfg.fpn_channels)


def test_gaussian_noise_only_in_training():
    model = build_feature_extractor(C.compact())
    x = np.full((1, 64, 64, 1), 120.0, np.float32)
    a, b = model(x, training=False), model(x, training=False)
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    c = model(x + np.random.default_rng(0).normal(0, 20, x.shape).astype(np.float32),
              training=True)
    assert not np.allclose(model(x, training=True)[0].numpy(), a[0].numpy())
    assert c[0].shape == a[0].shape


@pytest.mark.parametrize("backbone", ["temnet-gn", "temnet-bn"])
def test_temnet_detector_runs(backbone):
    cfg = C.paper(backbone=backbone)
    out = build_inference_model(cfg)(np.random.default_rng(0).uniform(
        0, 255, (2, 64, 96, 3)).astype(np.float32))
    assert tuple(out["boxes"].shape)[:2] == (2, 100) and tuple(out["valid"].shape) == (2,)


def test_missing_imagenet_weights_file():
    with pytest.raises(ModelError, match="ImageNet weights file not found"):
        build_feature_extractor(C.paper(backbone="resnet101", backbone_weights="/no/such.h5"))


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["resnet101", "resnet101v2", "inception_resnet_v2"])
def test_imagenet_backbones_build_and_run(backbone):
    cfg = C.paper(backbone=backbone, fpn_channels=32, rpn_channels=32, head_units=32)
    features = build_feature_extractor(cfg)
    x = np.random.default_rng(0).uniform(0, 255, (1, 128, 160, 3)).astype(np.float32)
    maps = features(x)
    for level, fmap in zip(cfg.pyramid_levels, maps):
        s = 2 ** level
        assert tuple(fmap.shape) == (1, -(-128 // s), -(-160 // s), 32)
    out = build_inference_model(cfg)(x)
    assert int(out["valid"][0]) > 0


@pytest.mark.slow
def test_local_imagenet_weights_are_loaded_and_batchnorm_frozen(tmp_path):
    source = keras.applications.ResNet101(include_top=False, weights=None,
                                          input_shape=(None, None, 3))
    path = tmp_path / "resnet101_notop.weights.h5"
    source.save_weights(str(path))
    cfg = C.paper(backbone="resnet101", fpn_channels=16, rpn_channels=16, head_units=16,
                  backbone_weights=str(path))
    features = build_feature_extractor(cfg)
    app = features.get_layer("resnet101_backbone")
    conv1 = app.get_layer("conv1_conv")
    np.testing.assert_array_equal(conv1.kernel.numpy(),
                                  source.get_layer("conv1_conv").kernel.numpy())
    bns = [layer for layer in app.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns and not any(layer.trainable for layer in bns)
