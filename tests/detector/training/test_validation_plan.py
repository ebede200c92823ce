"""Which epochs are validated (known answers for ValidationPlan), and the ETA's arithmetic."""

import math

import pytest

from temnet_app.detector.training.pacing import Monitor, ValidationPlan
from temnet_app.detector.training.settings import TrainSettings


def _validated(plan: ValidationPlan, stages, train_s=10.0, validate_s=5.0) -> list[int]:
    out = []
    for epoch, stage in enumerate(stages):
        last = epoch + 1 == len(stages) or stages[epoch + 1] != stage
        if plan.due(last):
            out.append(epoch + 1)
            plan.record(train_s, validate_s)
    return out


def test_a_fixed_interval_and_the_last_epoch_of_each_stage():
    assert _validated(ValidationPlan(2), ["all"] * 5) == [2, 4, 5]
    assert _validated(ValidationPlan(1), ["all"] * 3) == [1, 2, 3]
    assert _validated(ValidationPlan(3), ["rpn"] * 2 + ["all"] * 4) == [2, 5, 6]


def test_automatic_keeps_validation_under_a_tenth_of_the_time():
    # epoch 1 measured: 10 s training, 5 s validating -> every ceil(9 * 5 / 10) = 5 epochs
    plan = ValidationPlan(0)
    assert _validated(plan, ["all"] * 12) == [1, 6, 11, 12] and plan.every == 5
    share = 4 * 5.0 / (12 * 10.0 + 4 * 5.0)
    assert share < 0.15          # 14%: the first and the last validation are extra
    cheap = ValidationPlan(0)    # validation cheaper than a tenth of an epoch: every epoch
    assert _validated(cheap, ["all"] * 3, train_s=100.0, validate_s=5.0) == [1, 2, 3]
    with pytest.raises(Exception, match="validate_every"):
        TrainSettings(validate_every=-1)


def test_the_eta_from_the_moving_average_and_the_validations_to_come():
    plan = ValidationPlan(2)
    monitor = Monitor(lambda f, m: None, None, total_steps=40, steps_done=0,
                      validations=plan, epochs_left=lambda: 4, val_steps=5)
    monitor.epoch_started()
    assert math.isnan(monitor.eta())
    monitor.step_s, monitor.done = 1.0, 10          # as if measured
    # 30 steps left at 1 s, validations (4 epochs left at every 2: 2) at 5 x 0.4 s = 2 s each
    assert monitor.eta() == pytest.approx(30 + 2 * 2.0)
    plan.record(train_s=10.0, validate_s=3.0)
    assert monitor.eta() == pytest.approx(30 + 2 * 3.0)


def test_the_eta_never_passes_the_end_of_a_time_limit():
    left = {"s": 600.0}
    monitor = Monitor(lambda f, m: None, None, total_steps=4000, steps_done=0,
                      epochs_left=lambda: 100, time_left=lambda: left["s"])
    monitor.step_s, monitor.done = 1.0, 400
    assert monitor.eta() == pytest.approx(600.0)          # 3,600 s of steps, 10 min allowed
    left["s"] = -5.0                                        # past it: the last epoch ends
    assert monitor.eta() == 0.0
    left["s"] = 10_000.0                                    # a limit further than the plan
    assert monitor.eta() == pytest.approx(3600.0)
