"""Known answers for the model's parts (eq. 5 levels, RoIAlign, RPN cells, proposals,
detections), the assembled model's shapes, and weights files."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from temnet_app.core.errors import ModelError  # noqa: E402
from temnet_app.detector.model import config as C  # noqa: E402
from temnet_app.detector.model.anchors import anchors_for_config, generate_anchors  # noqa: E402
from temnet_app.detector.model.assembly import build_inference_model, build_parts, level_features  # noqa: E402,E501
from temnet_app.detector.model.roi_heads import DetectionLayer, PyramidRoIAlign, roi_levels  # noqa: E402,E501
from temnet_app.detector.model.rpn import ProposalLayer, RPNHead  # noqa: E402
from temnet_app.detector.model.weights import load_weights, save_weights, seeded_init  # noqa: E402


def test_roi_level_rule_known_answers():
    # Network scale 0.5 (1,024 -> 512): a network box of side s is 2 s micrograph px, and
    # k = floor(4 + log2(2 s / 2620)), clamped to [2, 4].
    boxes = tf.constant([[0, 0, 132, 132],       # a virion: floor(4 - 3.31) = 0 -> 2
                         [0, 0, 655, 655],       # 1310 px = 2620 / 2 -> exactly 3
                         [0, 0, 650, 650],       # 1300 px -> 2.99 -> 2
                         [0, 0, 1310, 1310],     # 2620 px -> 4
                         [0, 0, 1310, 327.5],    # sqrt(w h) = 655 -> 3
                         [0, 0, 3000, 3000],     # 5.19 -> clamped to 4
                         [5, 5, 5, 9]], tf.float32)  # empty -> lowest level
    np.testing.assert_array_equal(roi_levels(boxes, 0.5).numpy(), [2, 3, 2, 4, 3, 4, 2])
    np.testing.assert_array_equal(roi_levels(boxes, 0.5, max_level=5).numpy()[5], 5)
    np.testing.assert_array_equal(roi_levels(boxes[:2], 0.5, min_level=3).numpy(), [3, 3])
    # At full resolution (network scale 1) a 1,310-px box is half the canonical size -> 3.
    assert int(roi_levels(boxes[3:4], 1.0)[0]) == 3


def test_roi_align_on_a_linear_ramp():
    # Level 3 (stride 8) map of a 64 x 64 image with value 10 i + j at cell (i, j). Bilinear
    # sampling is exact on a linear map, so each bin is the ramp at its centre:
    # RoI x 8..40, y 16..48, 2 x 2 bins -> centres x 16, 32 / y 24, 40 px -> cells
    # u = x / 8 - 0.5 = 1.5, 3.5 and v = 2.5, 4.5 -> values 26.5, 28.5, 46.5, 48.5.
    i, j = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    fmap = tf.constant((10.0 * i + j)[None, :, :, None], tf.float32)
    layer = PyramidRoIAlign([3], pool_size=2, samples=2)
    out = layer([tf.constant([[[8.0, 16.0, 40.0, 48.0]]]), fmap]).numpy()
    np.testing.assert_allclose(out[0, 0, :, :, 0], [[26.5, 28.5], [46.5, 48.5]], atol=1e-4)


def test_roi_align_picks_levels_and_keeps_roi_order():
    # Two levels filled with 1 (P2) and 2 (P3). Network scale 0.05: the P3 threshold is
    # sqrt(w h) >= 1310 * 0.05 = 65.5 px.
    p2 = tf.ones([2, 32, 32, 1])
    p3 = 2.0 * tf.ones([2, 16, 16, 1])
    layer = PyramidRoIAlign([2, 3], pool_size=2, samples=1, network_scale=0.05)
    rois = tf.constant([[[0, 0, 64, 64], [0, 0, 66, 66]],
                        [[0, 0, 66, 66], [10, 10, 20, 20]]], tf.float32)
    out = layer([rois, p2, p3]).numpy()
    np.testing.assert_allclose(out[..., 0].mean(axis=(2, 3)), [[1, 2], [2, 1]], atol=1e-6)


def test_rpn_head_reads_the_anchor_cells():
    # Identity-like weights: the logit equals the feature at the conv's centre tap. With
    # anchor stride 2 the outputs must sit on cells (0, 2, 4, ...) of each axis: the anchors'.
    head = RPNHead(channels=1, anchors_per_location=1, anchor_stride=2)
    fmap = tf.constant((1.0 + 10.0 * np.arange(5)[:, None] + np.arange(7)[None, :])
                       [None, :, :, None], tf.float32)
    head.build([fmap.shape])
    kernel = np.zeros((3, 3, 1, 1), np.float32)
    kernel[1, 1] = 1.0
    head.conv.kernel.assign(kernel)
    head.conv.bias.assign([0.0])
    head.objectness.kernel.assign([[[[1.0]]]])
    head.objectness.bias.assign([0.0])
    logits, deltas = head([fmap])
    np.testing.assert_allclose(logits.numpy()[0], [1, 3, 5, 7, 21, 23, 25, 27, 41, 43, 45, 47])
    assert deltas.shape == (1, 12, 4)
    anchors = generate_anchors((5 * 8, 7 * 8), [3], [8.0], [1.0], anchor_stride=2)
    assert len(anchors) == 12
    np.testing.assert_allclose(anchors[5], [16, 16, 24, 24])  # cell (2, 2): centre 20 px


def _proposal_layer(nms_iou, count, net_input=32):
    return ProposalLayer([3], [16.0], [1.0], 1, (0.1, 0.1, 0.2, 0.2), 100, count, nms_iou,
                         net_input)


def test_proposals_known_answer():
    # 32 x 32 image, level 3: 4 x 4 anchors of 16 px centred at 4, 12, 20, 28 px.
    logits = np.full((1, 16), -10.0, np.float32)
    logits[0, 5] = 4.0    # centre (12, 12): [4, 4, 20, 20]
    logits[0, 6] = 3.0    # centre (20, 12): [12, 4, 28, 20], IoU 1/3 with anchor 5
    logits[0, 15] = 2.0   # centre (28, 28): [20, 20, 36, 36] clipped to [20, 20, 32, 32]
    images = tf.zeros([1, 32, 32, 1])
    deltas = tf.zeros([1, 16, 4])
    boxes, scores, valid = _proposal_layer(0.3, 2)([images, logits, deltas])
    np.testing.assert_allclose(boxes.numpy()[0], [[4, 4, 20, 20], [20, 20, 32, 32]])
    np.testing.assert_allclose(scores.numpy()[0], 1 / (1 + np.exp([-4.0, -2.0])), rtol=1e-6)
    assert int(valid[0]) == 2
    boxes, _, _ = _proposal_layer(0.5, 2)([images, logits, deltas])  # 1/3 < 0.5: both kept
    np.testing.assert_allclose(boxes.numpy()[0], [[4, 4, 20, 20], [12, 4, 28, 20]])
    # Budgets grow with the input area: 32 x 32 is 4 squares of 16 -> room for 4 x 2.
    boxes, _, valid = _proposal_layer(0.3, 2, net_input=16)([images, logits, deltas])
    assert boxes.shape[1] == 8 and 2 < int(valid[0]) <= 8


def _detect(logit_probs, rois, valid_rois, **kw):
    layer = DetectionLayer((0.1, 0.1, 0.2, 0.2), net_input=100, **kw)
    logits = tf.constant(np.log(np.asarray(logit_probs, np.float64)), tf.float32)[None]
    deltas = tf.zeros(logits.shape.as_list() + [4])
    return [t.numpy() for t in layer([tf.zeros([1, 100, 100, 1]), tf.constant([rois], tf.float32),
                                      tf.constant([valid_rois]), logits, deltas])]


def test_detection_layer_known_answer():
    rois = [[10, 10, 50, 50], [0, 0, 20, 20], [60, 60, 90, 90]]   # the third is padding
    probs = [[0.1, 0.2, 0.6, 0.1],       # background, eccentric, mature, immature
             [0.65, 0.04, 0.06, 0.25],
             [0.001, 0.997, 0.001, 0.001]]
    boxes, scores, ids, valid = _detect(probs, rois, 2, max_detections=10, min_confidence=0.05)
    assert int(valid[0]) == 5 and boxes.shape == (1, 10, 4)
    np.testing.assert_allclose(scores[0, :5], [0.6, 0.25, 0.2, 0.1, 0.06], rtol=1e-5)
    np.testing.assert_array_equal(ids[0], [2, 3, 1, 3, 2, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(boxes[0, :5], [rois[0], rois[1], rois[0], rois[0], rois[1]],
                               atol=1e-4)


def test_detection_layer_per_class_nms():
    rois = [[0, 0, 40, 40], [2, 2, 42, 42], [0, 0, 40, 40]]        # IoU(0, 1) = 0.82
    probs = [[0.2, 0.0001, 0.7999, 0.0], [0.3, 0.0001, 0.6999, 0.0], [0.4, 0.5999, 0.0001, 0.0]]
    probs = np.asarray(probs) + 1e-12
    boxes, scores, ids, valid = _detect(probs, rois, 3, max_detections=5)
    assert int(valid[0]) == 2                     # the second mature box is suppressed
    np.testing.assert_array_equal(ids[0, :2], [2, 1])  # other classes never suppress
    np.testing.assert_allclose(scores[0, :2], [0.7999, 0.5999], rtol=1e-4)


def test_inference_model_shapes_and_anchor_count():
    cfg = C.compact(net_input=64, window=128, window_overlap=32, max_detections=7)
    parts = build_parts(cfg)
    model = build_inference_model(cfg, parts)
    x = np.random.default_rng(0).uniform(0, 255, (2, 96, 160, 1)).astype(np.float32)
    logits, _ = parts.rpn_head(level_features(cfg, parts.features(x), "rpn"))
    assert logits.shape == (2, len(anchors_for_config(cfg, (96, 160))))
    out = model(x)
    area = -(-7 * 96 * 160 // (64 * 64))   # detections budget grows with the area: ceil
    assert out["boxes"].shape == (2, area, 4)
    for b in range(2):
        n = int(out["valid"][b])
        assert n > 0
        boxes, ids = out["boxes"][b, :n].numpy(), out["class_ids"][b].numpy()
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= 160).all()
        assert (boxes[:, 1] >= 0).all() and (boxes[:, 3] <= 96).all()
        assert set(ids[:n]) <= {1, 2, 3} and not ids[n:].any()
        assert (np.diff(out["scores"][b, :n].numpy()) <= 1e-7).all()


def test_weights_round_trip_and_errors(tmp_path):
    cfg = C.compact(net_input=64, window=128, window_overlap=32)
    x = np.random.default_rng(1).uniform(0, 255, (1, 64, 96, 1)).astype(np.float32)
    source = build_inference_model(cfg)
    seeded_init(source, 7)
    path = save_weights(source, tmp_path / "m.weights.h5")
    assert not [p for p in tmp_path.iterdir() if p.name != "m.weights.h5"]  # no temp left
    target = build_inference_model(cfg)
    load_weights(target, path)
    a, b = source(x), target(x)
    for key in ("boxes", "scores", "class_ids", "valid"):
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    with pytest.raises(ModelError, match="another configuration|does not fit"):
        load_weights(build_inference_model(cfg.replace(fpn_channels=32)), path)
    with pytest.raises(ModelError, match="another configuration|does not fit"):
        load_weights(build_inference_model(C.paper(net_input=64)), path)
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(ModelError, match="not a readable HDF5"):
        load_weights(target, bad)
    with pytest.raises(ModelError, match="not found"):
        load_weights(target, tmp_path / "none.weights.h5")
    with pytest.raises(ModelError, match="must end in"):
        save_weights(source, tmp_path / "m.h5")
