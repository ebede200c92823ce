"""Training settings, checkpoint state files and optimizer state (fast, no training run)."""

import json
import math

import numpy as np
import pytest

from temnet_app.core.errors import ModelError
from temnet_app.detector import TrainSettings, format_duration
from temnet_app.detector.training.state import STATE_FILE, TrainState, load_state, save_state


def test_settings_defaults_are_the_papers_optimiser():
    s = TrainSettings()
    assert (s.learning_rate, s.momentum, s.weight_decay, s.clip_norm) == (0.01, 0.9, 1e-4, 5.0)
    assert s.lr_factor == 0.1 and s.schedule == "end-to-end"
    assert [s.stage_of(e) for e in range(3)] == ["all"] * 3


def test_staged_schedule_trains_the_rpn_first():
    s = TrainSettings(epochs=5, schedule="staged", rpn_epochs=2)
    assert [s.stage_of(e) for e in range(5)] == ["rpn", "rpn", "all", "all", "all"]


def test_paper_schedule_pretrains_the_backbone_then_the_rpn_then_everything():
    s = TrainSettings(epochs=6, schedule="paper", pretrain_epochs=2, rpn_epochs=1)
    assert [s.stage_of(e) for e in range(6)] == ["backbone", "backbone", "rpn", "all", "all",
                                                 "all"]


@pytest.mark.parametrize("changes", [
    {"schedule": "paper", "epochs": 5, "pretrain_epochs": 0, "rpn_epochs": 2},
    {"schedule": "paper", "epochs": 5, "pretrain_epochs": 2, "rpn_epochs": 0},
    {"schedule": "paper", "epochs": 4, "pretrain_epochs": 2, "rpn_epochs": 2},
    {"pretrain_epochs": 1}, {"rpn_epochs": 1},
    {"schedule": "staged", "epochs": 4, "rpn_epochs": 1, "pretrain_epochs": 1},
    {"classifier_batch_size": 0},
    {"schedule": "heads-first"}, {"epochs": 0}, {"schedule": "staged", "rpn_epochs": 0},
    {"schedule": "staged", "epochs": 3, "rpn_epochs": 3}, {"learning_rate": 0.0},
    {"momentum": 1.0}, {"clip_norm": 0.0}, {"lr_factor": 1.0}, {"plateau_patience": 0},
    {"batch_size": -1}, {"validation_fraction": 1.0}])
def test_bad_settings_raise_model_error(changes):
    with pytest.raises(ModelError, match="invalid training settings"):
        TrainSettings(**changes)


def test_format_duration():
    assert format_duration(42.4) == "42s"
    assert format_duration(185) == "3m05s"
    assert format_duration(3720) == "1h02m"


def test_state_round_trips_through_json_with_an_infinite_best_loss(tmp_path):
    state = TrainState(epoch=3, stage="rpn", learning_rate=0.001, history=[{"epoch": 1}],
                       config={"preset": "compact"}, split={"train": ["a"]})
    save_state(tmp_path, state)
    data = json.loads((tmp_path / STATE_FILE).read_text())
    assert data["best_val_loss"] is None and data["epoch"] == 3  # JSON has no Infinity
    (tmp_path / "last.weights.h5").write_bytes(b"x")
    back = load_state(tmp_path)
    assert back.epoch == 3 and back.stage == "rpn" and math.isinf(back.best_val_loss)
    assert back.history == [{"epoch": 1}] and back.config == {"preset": "compact"}
    state.best_val_loss = 1.25
    save_state(tmp_path, state)
    assert load_state(tmp_path).best_val_loss == 1.25


def test_missing_or_broken_checkpoint_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="nothing to resume"):
        load_state(tmp_path)
    (tmp_path / STATE_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="incomplete"):
        load_state(tmp_path)
    (tmp_path / "last.weights.h5").write_bytes(b"x")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_state(tmp_path)
    (tmp_path / STATE_FILE).write_text(json.dumps({"state_format": 99}))
    with pytest.raises(ModelError, match="format"):
        load_state(tmp_path)


def test_optimizer_state_round_trips_without_pickle(tmp_path):
    keras = pytest.importorskip("keras")
    from temnet_app.detector.training.state import load_optimizer, save_optimizer

    var = keras.Variable(np.array([1.0, -2.0], np.float32))
    opt = keras.optimizers.SGD(0.1, momentum=0.9)
    for _ in range(3):
        opt.apply_gradients([(np.array([0.5, 1.0], np.float32), var)])
    # Keras momentum m <- 0.9 m - lr g: -0.1 g, -0.19 g, then -0.271 g after three steps
    path = save_optimizer(tmp_path / "optimizer.npz", opt)
    with np.load(path, allow_pickle=False) as data:
        assert len(data.files) == len(opt.variables)
    var2 = keras.Variable(np.zeros(2, np.float32))
    opt2 = keras.optimizers.SGD(0.5, momentum=0.9)
    load_optimizer(path, opt2, [var2])
    assert int(opt2.iterations.numpy()) == 3
    assert float(opt2.learning_rate.numpy()) == pytest.approx(0.1)
    momentum = [v.numpy() for v in opt2.variables if v.shape == (2,)]
    np.testing.assert_allclose(momentum[0], [-0.271 * 0.5, -0.271 * 1.0], rtol=1e-5)
    with pytest.raises(ModelError, match="does not fit|holds"):
        load_optimizer(path, keras.optimizers.SGD(0.1, momentum=0.9),
                       [keras.Variable(np.zeros(3, np.float32))])
