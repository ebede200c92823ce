"""A tiny real training run (3 small simulated micrographs, a 64-px network): the loss falls,
cancel keeps the checkpoint, resume continues it, and the result is a model Detector.load reads."""

import hashlib
import json
import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from temnet_app.core.errors import Cancelled, ModelError  # noqa: E402
from temnet_app.core.progress import CancelToken  # noqa: E402
from temnet_app.detector.data.augment import NO_AUGMENTATION  # noqa: E402
from temnet_app.detector.data.labelled import read_folder  # noqa: E402
from temnet_app.detector.data.pipeline import make_dataset  # noqa: E402
from temnet_app.detector.model.assembly import build_parts  # noqa: E402
from temnet_app.detector.model.config import DetectorConfig  # noqa: E402
from temnet_app.detector.training.graph import TrainingModel  # noqa: E402
from temnet_app.detector.training.loop import TrainSettings, load_checkpoint, train  # noqa: E402
from temnet_app.detector.training.state import load_state  # noqa: E402
from temnet_app.simulator.simulate import simulate_set  # noqa: E402

pytestmark = pytest.mark.slow

STEPS = 3


def tiny_config() -> DetectorConfig:
    """A 64-px network on 512-px windows (virions 180-350 px -> 22-44 network px)."""
    return DetectorConfig(net_input=64, window=512, window_overlap=128, input_channels=1,
                          fpn_channels=8, rpn_channels=8, head_units=16,
                          anchor_scales=(24.0, 48.0), anchor_ratios=(1.0,), anchor_stride=1,
                          pre_nms_top_k=64, train_post_nms_rois=16, post_nms_rois=16,
                          rpn_train_anchors=32, train_rois=8, max_gt_boxes=4, batch_size=2,
                          tiling_mode="whole")


def tiny_micrographs(folder, seed: int):
    """Three small simulated micrographs (640 px, 2-3 virions each), read back labelled."""
    simulate_set(folder, 3, "dataset", 30000.0, seed=seed, width=640, height=640, count=(2, 3))
    return read_folder(folder)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Train 3 epochs, cancelling in epoch 3; then resume to finish. Records what happened."""
    root = tmp_path_factory.mktemp("train_run")
    micrographs = tiny_micrographs(root / "data", seed=5)
    cfg = tiny_config()
    settings = TrainSettings(epochs=3, steps_per_epoch=STEPS, validation_fraction=0.0,
                             augment=False, plateau_patience=5, validate_every=1)
    out = root / "model"
    token = CancelToken()
    seen = {}

    def progress(fraction, message):
        if "epoch 2/3" in message and " val " in message:
            seen["last_sha_epoch2"] = _sha(out / "checkpoint" / "last.weights.h5")
            seen["best_sha_epoch2"] = _sha(out / "checkpoint" / "best.weights.h5")
        if message.startswith("epoch 3/3") and "step 1/" in message:
            token.cancel()

    with pytest.raises(Cancelled, match="epoch 3"):
        train(micrographs, cfg, out, settings, progress=progress, cancel=token)
    cancelled_state = load_state(out / "checkpoint")
    seen["after_cancel_last_sha"] = _sha(out / "checkpoint" / "last.weights.h5")
    seen["after_cancel_best_sha"] = _sha(out / "checkpoint" / "best.weights.h5")
    seen["card_after_cancel"] = (out / "model_card.json").exists()
    _, _, restored = load_checkpoint(out)
    seen["restored_weights"] = [w.copy() for w in restored.get_weights()]
    # Write the restored model out again and compare array by array with the checkpoint.
    from temnet_app.detector.model.weights import save_weights

    save_weights(restored, root / "restored.weights.h5")
    seen["saved_arrays"] = _h5_arrays(out / "checkpoint" / "last.weights.h5")
    seen["restored_arrays"] = _h5_arrays(root / "restored.weights.h5")

    # Loss of the untrained model on the same (validation = training) crops, same init seed.
    keras.utils.set_random_seed(settings.seed)
    fresh = TrainingModel(build_parts(cfg), stage="all", seed=settings.seed)
    fresh.compile(optimizer=keras.optimizers.SGD(0.01))
    val_ds = make_dataset(micrographs, cfg, False, 2, seed=0, augmentation=NO_AUGMENTATION)
    seen["initial_loss"] = float(fresh.evaluate(val_ds, verbose=0, return_dict=True)["total"])

    # A checkpoint written before class balancing existed (no "balance_classes" in its
    # settings) trained unbalanced, so it must resume unbalanced although that is now on.
    state_file = out / "checkpoint" / "state.json"
    stored = json.loads(state_file.read_text())
    assert stored["settings"].pop("balance_classes") is True
    state_file.write_text(json.dumps(stored))
    result = train(micrographs, cfg, out, TrainSettings(epochs=3), resume=True,
                   command="pytest tiny run")
    return {"root": root, "out": out, "cfg": cfg, "cancelled_state": cancelled_state,
            "result": result, "seen": seen, "micrographs": micrographs}


def test_cancel_keeps_the_checkpoint_of_the_last_finished_epoch(run):
    state, seen = run["cancelled_state"], run["seen"]
    assert state.epoch == 2 and not state.finished and len(state.history) == 2
    assert seen["after_cancel_last_sha"] == seen["last_sha_epoch2"]
    assert seen["after_cancel_best_sha"] == seen["best_sha_epoch2"]
    assert not seen["card_after_cancel"]  # no half-made model folder


def _h5_arrays(path):
    import h5py

    arrays = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, obj: arrays.__setitem__(name, obj[()])
                          if isinstance(obj, h5py.Dataset) else None)
    return arrays


def test_resume_restores_the_saved_weights_exactly(run):
    from temnet_app.detector.model.assembly import build_inference_model

    saved, rewritten = run["seen"]["saved_arrays"], run["seen"]["restored_arrays"]
    assert saved and saved.keys() == rewritten.keys()
    for name in saved:
        np.testing.assert_array_equal(saved[name], rewritten[name], err_msg=name)
    keras.utils.set_random_seed(123)
    random_weights = build_inference_model(run["cfg"]).get_weights()
    restored = run["seen"]["restored_weights"]
    assert any(not np.array_equal(a, b) for a, b in zip(restored, random_weights))


def test_resume_continues_epoch_counter_and_optimizer(run):
    result = run["result"]
    state = result.state
    assert run["cancelled_state"].settings["balance_classes"] is True  # the default
    assert state.settings["balance_classes"] is False  # as the pre-option checkpoint ran
    assert state.finished and state.epoch == 3
    assert [h["epoch"] for h in state.history] == [1, 2, 3]
    with np.load(run["out"] / "checkpoint" / "optimizer.npz", allow_pickle=False) as data:
        iterations = int(data["v000"])
    assert iterations == 3 * STEPS  # momentum and step count carried over the resume


def test_training_lowers_the_loss(run):
    initial = run["seen"]["initial_loss"]
    best = run["result"].state.best_val_loss
    assert math.isfinite(initial) and best < 0.8 * initial, (initial, best)


def test_result_is_a_model_folder_detector_load_reads(run):
    from temnet_app.core.micrographs import read_micrograph
    from temnet_app.detector import Detector

    out = run["out"]
    detector = Detector.load(out)
    assert detector.config == run["cfg"] and detector.name == "model"
    card = detector.card
    assert card["command"] == "pytest tiny run"
    assert card["training_run"]["epochs"] == 3
    assert card["training_run"]["best_epoch"] == run["result"].state.best_epoch
    assert card["training_data"]["train"]["micrographs"] == 3
    assert card["training_data"]["split"]["validation"] == []
    metrics = card["validation_metrics"]
    assert metrics["micrographs"] == 3 and set(metrics) >= {"at_0.5", "at_0.9"}
    assert set(metrics["at_0.5"]["per_class"]) == {"eccentric", "mature", "immature"}
    assert any("validated on the training set" in n for n in card["notes"])
    m = run["micrographs"][0]
    found = detector.detect(read_micrograph(m.path).pixels, m.magnification)
    assert isinstance(found, list)
    best = out / "checkpoint" / "best.weights.h5"
    keras.utils.set_random_seed(9)
    from_best = Detector.from_config(run["cfg"], weights_path=best)
    for a, b in zip(detector.model.get_weights(), from_best.model.get_weights()):
        np.testing.assert_array_equal(a, b)  # the shipped weights are the best epoch's


def test_a_second_fresh_run_into_the_same_folder_is_refused(run):
    with pytest.raises(ModelError, match="already holds a training checkpoint"):
        train(run["micrographs"], run["cfg"], run["out"], TrainSettings(epochs=1))
    with pytest.raises(ModelError, match="already finished"):
        train(run["micrographs"], run["cfg"], run["out"], TrainSettings(epochs=3), resume=True)


def test_thinned_validation_and_an_eta_that_is_sane_early(tmp_path):
    """Validation every 2nd epoch (the last always): only those epochs carry a validation
    loss, the kept model is the best of them. The ETA printed after 5 steps is within a
    factor of 2 of the time the run then took (125 steps of ~20 ms; the one-time building of
    the validation graph, ~2 s here, is not foreseen and is the main error)."""
    import re
    import time

    micrographs = tiny_micrographs(tmp_path / "data", seed=9)
    settings = TrainSettings(epochs=5, steps_per_epoch=25, validation_fraction=0.34,
                             augment=False, validate_every=2)
    seen = []

    def progress(fraction, message):
        seen.append((time.monotonic(), message))

    result = train(micrographs, tiny_config(), tmp_path / "model", settings, progress=progress,
                   evaluate_model=False)
    ended = time.monotonic()
    history = result.state.history
    assert [h["epoch"] for h in history if h["validation"]] == [2, 4, 5]
    assert all(not h["validation"] for h in history if h["epoch"] in (1, 3))
    best = min((h for h in history if h["validation"]), key=lambda h: h["validation"]["total"])
    assert result.state.best_epoch == best["epoch"]
    assert any("not validated (every 2 epochs)" in m for _, m in seen)
    steps = [(t, m) for t, m in seen if re.search(r" step \d+/", m)]
    at, message = steps[4]                                  # after the 5th step
    found = re.search(r"ETA (\S+)", message)
    assert found, message
    eta = _seconds(found.group(1))
    truth = ended - at
    print(f"ETA after 5 steps {eta:.1f} s, the run then took {truth:.1f} s")
    assert truth / 2 <= eta <= truth * 2


def _seconds(text: str) -> float:
    """``format_duration`` back to seconds ("45s", "3m05s", "1h02m")."""
    import re

    total = 0.0
    for value, unit in re.findall(r"(\d+(?:\.\d+)?)([hms])", text):
        total += float(value) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total
