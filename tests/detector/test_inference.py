"""The Detector facade: micrograph coordinates in both modes, cancel, one trace, model
folders (save / load / errors), input checks."""

import json

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from temnet_app.core.box_math import iou_matrix  # noqa: E402
from temnet_app.core.errors import Cancelled, MicrographError, ModelError  # noqa: E402
from temnet_app.core.progress import CancelToken  # noqa: E402
from temnet_app.detector.inference import CARD_FILE, WEIGHTS_FILE, Detector  # noqa: E402
from temnet_app.detector.model import config as C  # noqa: E402

# A small but complete compact model: 256-px windows at 30,000x resized to 128 (scale 0.5).
SMALL = C.compact(net_input=128, window=256, window_overlap=96, batch_size=8)


@pytest.fixture(scope="module")
def detector():
    return Detector.from_config(SMALL, seed=3, name="small", version="1")


def _image(h=1200, w=1500, seed=0):
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(60, 200, (h // 50 + 2, w // 50 + 2))
    img = np.kron(coarse, np.ones((50, 50)))[:h, :w] + rng.normal(0, 10, (h, w))
    return np.clip(img, 0, 255).astype(np.uint8)


class FakeNet:
    """Stands in for the compiled network: one fixed box per image, counting calls."""

    def __init__(self, box=(10.0, 20.0, 50.0, 60.0)):
        self.box, self.calls = box, 0

    def __call__(self, x):
        self.calls += 1
        b = x.shape[0]
        boxes = np.zeros((b, 3, 4), np.float32)
        boxes[:, 0] = self.box
        scores = np.zeros((b, 3), np.float32)
        scores[:, 0] = 0.5 + 0.001 * np.arange(b)
        ids = np.zeros((b, 3), np.int32)
        ids[:, 0] = 2
        return (tf.constant(boxes), tf.constant(scores), tf.constant(ids),
                tf.constant(np.ones(b, np.int32)))


def test_tiled_boxes_are_mapped_to_micrograph_pixels(detector, monkeypatch):
    fake = FakeNet()
    monkeypatch.setattr(detector, "_predict", fake)
    side, overlap, windows = detector.window_plan(1500, 1200, 30000.0)
    assert (side, overlap) == (256, 96) and len(windows) == 9 * 7
    assert detector.window_geometry(30000.0) == (256, 96)
    assert detector.window_geometry(pixel_size_nm=2 * 0.561) == (128, 48)   # 15,000x
    found = detector.detect(_image(), 30000.0, mode="tiled")
    assert fake.calls == 8                                  # 63 windows in batches of 8
    expected = sorted((w.x0 + 20.0, w.y0 + 40.0, w.x0 + 100.0, w.y0 + 120.0) for w in windows)
    assert sorted(d.xyxy() for d in found) == expected     # 128 -> 256 px: box x 2, + origin
    assert {d.class_id for d in found} == {2}


def test_whole_mode_undoes_the_rescale(detector, monkeypatch):
    monkeypatch.setattr(detector, "_predict", FakeNet())
    (d,) = detector.detect(_image(), 30000.0, mode="whole")
    # 1500 x 1200 at scale 128 / 256 -> 750 x 600 -> nearest multiples of 32: 736 x 608.
    fx, fy = 736 / 1500, 608 / 1200
    np.testing.assert_allclose(d.xyxy(), (10 / fx, 20 / fy, 50 / fx, 60 / fy))


def test_magnification_sets_the_window(detector):
    side, overlap, _ = detector.window_plan(1500, 1200, 20000.0)
    assert (side, overlap) == (171, 64)   # 256 * 2/3 = 170.7 -> 171; 96 * 171 / 256 = 64.1


@pytest.mark.parametrize("mode", ["tiled", "whole"])
def test_real_detections_lie_inside_the_micrograph(detector, mode):
    found = detector.detect(_image(), 30000.0, mode=mode)
    assert found, "random weights still give detections above the 0.05 floor"
    xyxy = np.array([d.xyxy() for d in found])
    assert (xyxy[:, 0] >= 0).all() and (xyxy[:, 1] >= 0).all()
    assert (xyxy[:, 2] <= 1500).all() and (xyxy[:, 3] <= 1200).all()
    assert xyxy[:, 2].max() > 900 and xyxy[:, 3].max() > 700      # not window coordinates
    scores = [d.score for d in found]
    assert scores == sorted(scores, reverse=True) and min(scores) > 0.05
    iou = iou_matrix(xyxy, xyxy)
    np.fill_diagonal(iou, 0.0)
    assert iou.max() <= 0.3 + 1e-9                                 # merged across windows


def test_cancel_after_the_first_batch(detector):
    token = CancelToken()
    calls = []
    original = detector._predict

    def counting(x):
        calls.append(x.shape[0])
        return original(x)

    detector._predict = counting
    try:
        with pytest.raises(Cancelled):
            detector.detect(_image(), 30000.0, progress=lambda f, m: token.cancel(),
                            cancel=token, mode="tiled")
    finally:
        detector._predict = original
    assert calls == [8]


def test_one_trace_for_all_shapes(detector):
    before = detector._predict.experimental_get_tracing_count()
    detector.detect(_image(700, 900), 30000.0, mode="tiled")
    detector.detect(_image(700, 900), 30000.0, mode="whole")
    detector.detect(_image(1000, 640), 25000.0, mode="whole")
    assert detector._predict.experimental_get_tracing_count() == max(before, 1)


def test_detect_many_and_progress(detector):
    seen = []
    results = detector.detect_many([(_image(300, 400), 30000.0), (_image(300, 400, 1), 30000.0)],
                                   progress=lambda f, m: seen.append(f))
    assert len(results) == 2 and all(results)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_descriptions(detector):
    assert detector.model_id == "small@1"
    assert detector.device == "CPU" or detector.device.startswith("GPU:0")
    assert detector.score_floor == 0.05
    settings = detector.settings()
    assert json.loads(json.dumps(settings)) == settings
    assert settings["mode"] == "whole" and settings["config"]["preset"] == "compact"


def test_save_load_round_trip(detector, tmp_path):
    folder = detector.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == [CARD_FILE, WEIGHTS_FILE]
    card = json.loads((folder / CARD_FILE).read_text())
    assert card["name"] == "small" and card["classes"] == ["eccentric", "mature", "immature"]
    assert {"version", "config", "training", "date", "app_version"} <= set(card)
    again = Detector.load(folder)
    assert again.model_id == "small@1" and again.config == SMALL
    image = _image(400, 500)
    a = detector.detect(image, 30000.0)
    b = again.detect(image, 30000.0)
    assert a == b and a


def _copy_model(detector, tmp_path, edit=None):
    folder = detector.save(tmp_path / "m")
    if edit:
        card = json.loads((folder / CARD_FILE).read_text())
        edit(card)
        (folder / CARD_FILE).write_text(json.dumps(card))
    return folder


def test_load_errors(detector, tmp_path):
    with pytest.raises(ModelError, match="model folder not found"):
        Detector.load(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="model card not found"):
        Detector.load(empty)
    folder = _copy_model(detector, tmp_path)
    (folder / CARD_FILE).write_text('{"name": "x",\n "version": }')
    with pytest.raises(ModelError, match="not valid JSON .line 2"):
        Detector.load(folder)
    folder = _copy_model(detector, tmp_path, lambda c: c.pop("config"))
    with pytest.raises(ModelError, match="lacks config"):
        Detector.load(folder)
    folder = _copy_model(detector, tmp_path, lambda c: c.update(classes=["a", "b", "c"]))
    with pytest.raises(ModelError, match="classes"):
        Detector.load(folder)
    folder = _copy_model(detector, tmp_path,
                         lambda c: c.update(config=C.paper(net_input=128).to_dict()))
    with pytest.raises(ModelError, match="another configuration|does not fit"):
        Detector.load(folder)
    folder = _copy_model(detector, tmp_path)
    (folder / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match="weights file not found"):
        Detector.load(folder)


def test_bad_inputs(detector):
    with pytest.raises(MicrographError, match="8-bit"):
        detector.detect(np.zeros((100, 100), np.float32))
    with pytest.raises(MicrographError, match="2-D"):
        detector.detect(np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(MicrographError, match="magnification"):
        detector.detect(np.zeros((100, 100), np.uint8), magnification=0)
    with pytest.raises(ModelError, match="mode"):
        detector.detect(np.zeros((100, 100), np.uint8), mode="sliding")
