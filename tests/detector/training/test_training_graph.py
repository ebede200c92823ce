"""The trainable graph: a few SGD steps on one tiny synthetic image lower the detection loss."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from temnet_app.detector.model.assembly import build_inference_model  # noqa: E402
from temnet_app.detector.model.config import DetectorConfig  # noqa: E402
from temnet_app.detector.training.graph import TrainingModel, unpack_batch  # noqa: E402


def _tiny_config(**changes):
    base = dict(net_input=64, window=128, window_overlap=32, input_channels=1, fpn_channels=8,
                rpn_channels=8, head_units=16, anchor_scales=(16.0, 32.0), anchor_ratios=(1.0,),
                anchor_stride=1, rpn_min_level=2, pre_nms_top_k=64, train_post_nms_rois=16,
                post_nms_rois=16, rpn_train_anchors=32, train_rois=8, max_gt_boxes=2)
    base.update(changes)
    return DetectorConfig(**base)


def _disc_image():
    """64 x 64 grey image with one bright disc (a 'virion') and its box, class 2."""
    img = np.full((1, 64, 64, 1), 100.0, np.float32)
    yy, xx = np.mgrid[:64, :64]
    img[0, ((xx - 30) ** 2 + (yy - 34) ** 2) < 14 ** 2, 0] = 200.0
    boxes = np.array([[[16, 20, 44, 48], [0, 0, 0, 0]]], np.float32)
    class_ids = np.array([[2, 0]], np.int32)
    return img, boxes, class_ids


def _losses(model, img, boxes, class_ids):
    out = model.compute_detection_losses(tf.constant(img), tf.constant(boxes),
                                         tf.constant(class_ids), seed=tf.constant([1, 1]))
    return {k: float(v) for k, v in out.items()}


def test_unpack_batch_accepts_both_layouts_and_rejects_others():
    img, boxes, cls = _disc_image()
    a = unpack_batch((img, {"boxes": boxes, "class_ids": cls}))
    b = unpack_batch((img, boxes, cls))
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))
    with pytest.raises(ValueError):
        unpack_batch((img, boxes))
    with pytest.raises(ValueError):
        TrainingModel.from_config_object(_tiny_config(), stage="heads")


@pytest.mark.slow
def test_a_few_sgd_steps_lower_the_total_loss_and_the_weights_serve_inference():
    keras.utils.set_random_seed(0)
    cfg = _tiny_config()
    model = TrainingModel.from_config_object(cfg, stage="all", seed=3)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, clipnorm=5.0))
    img, boxes, cls = _disc_image()
    before = _losses(model, img, boxes, cls)
    assert set(before) == {"total", "rpn_class", "rpn_box", "rcnn_class", "rcnn_box"}
    assert all(np.isfinite(v) for v in before.values())
    history = model.fit(img, {"boxes": boxes, "class_ids": cls}, epochs=12, verbose=0)
    after = _losses(model, img, boxes, cls)
    assert all(np.isfinite(v) for v in history.history["total"])
    assert after["total"] < 0.6 * before["total"], (before, after)
    assert after["rpn_class"] < before["rpn_class"]
    # the inference model built on the same parts runs with the trained weights
    outputs = build_inference_model(cfg, model.parts)(tf.constant(img))
    assert outputs["boxes"].shape[-1] == 4 and int(outputs["valid"][0]) >= 0
    # a background-only image trains without NaN; stage "rpn" tracks only the RPN losses
    rpn_model = TrainingModel(model.parts, stage="rpn")
    rpn_model.compile(optimizer=keras.optimizers.SGD(0.01))
    empty = rpn_model.fit(img, {"boxes": np.zeros_like(boxes), "class_ids": np.zeros_like(cls)},
                          epochs=1, verbose=0).history
    assert set(empty) == {"total", "rpn_class", "rpn_box"}
    assert empty["rpn_box"] == [0.0] and np.isfinite(empty["total"][0])
