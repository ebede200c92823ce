"""Learning-rate warm-up: a linear ramp over the first steps of a stage, resumable."""

import pytest

from temnet_app.core.errors import ModelError
from temnet_app.detector.training.settings import TrainSettings
from temnet_app.detector.training.warmup import warmup_callback, warmup_factor


def test_the_ramp_by_hand():
    assert [warmup_factor(s, 4) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert warmup_factor(0, 0) == 1.0  # switched off


def test_the_callback_sets_the_rate_per_batch_and_continues_after_a_resume():
    keras = pytest.importorskip("keras")
    optimizer = keras.optimizers.SGD(learning_rate=0.01)
    seen = []
    callback = warmup_callback(optimizer, 0.01, warmup_steps=4, steps_before=2)
    for batch in range(4):  # an epoch starting at step 2 of its stage (e.g. after a resume)
        callback.on_train_batch_begin(batch)
        seen.append(round(float(optimizer.learning_rate.numpy()), 6))
    assert seen == [0.0075, 0.01, 0.01, 0.01]
    assert warmup_callback(optimizer, 0.01, warmup_steps=4, steps_before=4) is None
    assert TrainSettings().warmup_steps == 0  # off unless asked for
    with pytest.raises(ModelError, match="warmup_steps"):
        TrainSettings(warmup_steps=-1)


def test_the_progress_line_shows_the_ramped_rate():
    keras = pytest.importorskip("keras")
    from temnet_app.detector.training.pacing import Monitor

    lines = []
    monitor = Monitor(lambda f, m: lines.append(m), None, total_steps=4, steps_done=0,
                      epochs_left=lambda: 1)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    warm = warmup_callback(model.optimizer, 0.01, warmup_steps=4, steps_before=0)
    report = monitor.callback("epoch 1/1", 4, 0.01)
    report.set_model(model)
    monitor.epoch_started()
    for batch in range(2):
        warm.on_train_batch_begin(batch)
        report.on_train_batch_end(batch, {"loss": 1.0})
    assert " lr 0.0025" in lines[0] and " lr 0.005" in lines[1]
