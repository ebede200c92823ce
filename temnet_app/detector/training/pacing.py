"""The pace of a training run: which epochs are validated (:class:`ValidationPlan`), and the
progress lines with their ETA (:class:`Monitor`, a Keras callback that also polls cancel).

The ETA is steps left times a moving average of the seconds per step (the first step of each
epoch, which starts the input pipeline, left out) plus the validations still to come. No
TensorFlow is imported here until a callback is built.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Optional

from temnet_app.core.progress import CancelToken, ProgressFn

__all__ = ["Monitor", "ValidationPlan", "as_total", "format_duration"]


def format_duration(seconds: float) -> str:
    """``1h02m``, ``3m05s`` or ``42s``."""
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def as_total(logs: dict) -> dict:
    """Keras's ``loss`` of the classifier stage under the detector stages' key ``total``."""
    logs = {k: float(v) for k, v in logs.items()}
    if "total" not in logs and "loss" in logs:
        logs["total"] = logs.pop("loss")
    return logs


class ValidationPlan:
    """Which epochs are validated: every ``every``-th, or (``every`` 0) automatically as often
    as keeps validation under :data:`TARGET_FRACTION` of the time, measured on the first
    epoch (always validated then): every ``ceil(9 * t_validate / t_train)``-th epoch. The last
    epoch of each stage always is."""

    TARGET_FRACTION = 0.1

    def __init__(self, every: int = 0) -> None:
        self.fixed = int(every) > 0
        self.every = max(1, int(every))
        self.since = 0
        self.measured = False
        self.seconds: Optional[float] = None      # the last validation's duration

    def due(self, last_of_stage: bool) -> bool:
        self.since += 1
        if last_of_stage or self.since >= self.every or (not self.fixed and not self.measured):
            self.since = 0
            return True
        return False

    def record(self, train_s: float, validate_s: float) -> None:
        """One epoch's training and validation seconds (sets the automatic interval)."""
        self.seconds = validate_s
        if not self.fixed and not self.measured:
            ratio = (1.0 - self.TARGET_FRACTION) / self.TARGET_FRACTION
            self.every = max(1, math.ceil(ratio * validate_s / max(train_s, 1e-6)))
        self.measured = True

    def remaining(self, epochs_left: int) -> int:
        """Validations still to come in ``epochs_left`` epochs (at least the last one)."""
        if epochs_left <= 0:
            return 0
        return max(1, (self.since + epochs_left) // self.every)


class Monitor:
    """Builds the Keras callback that reports progress (loss, lr, ETA) and polls cancel."""

    SMOOTHING = 0.2     # weight of the newest step in the moving average of step seconds

    def __init__(self, progress: ProgressFn, cancel: Optional[CancelToken], total_steps: int,
                 steps_done: int, validations: Optional[ValidationPlan] = None,
                 epochs_left=None, val_steps: int = 0,
                 time_left: Optional[Callable[[], float]] = None):
        self.progress = progress
        self.cancel = cancel
        self.total = max(1, total_steps)
        self.done = steps_done
        self.cancelled = False
        self.step_s: Optional[float] = None
        self.last_step_end: Optional[float] = None
        self.fit_started: Optional[float] = None
        self.first_step_s: Optional[float] = None    # the very first step: building the graph
        self.validations = validations
        self.epochs_left = epochs_left or (lambda: 0)
        self.val_steps = val_steps
        self.time_left = time_left or (lambda: math.inf)

    def epoch_started(self) -> None:
        self.last_step_end = None          # the first step of an epoch is not timed
        if self.fit_started is None:
            self.fit_started = time.monotonic()

    def step_ended(self) -> None:
        now = time.monotonic()
        if self.first_step_s is None and self.fit_started is not None:
            self.first_step_s = now - self.fit_started
        if self.last_step_end is not None:
            seconds = now - self.last_step_end
            self.step_s = seconds if self.step_s is None else \
                self.SMOOTHING * seconds + (1 - self.SMOOTHING) * self.step_s
        self.last_step_end = now
        self.done += 1

    # a validation batch (forward pass only) against a training step, until one is measured
    VALIDATION_STEP_FRACTION = 0.4
    # building the validation graph (forward and losses) against building the training graph
    # (which also differentiates it): measured 1.8 s against 7.9 s for a tiny model
    GRAPH_BUILD_SHARE = 0.25

    def eta(self) -> float:
        """Seconds left: steps left times the moving average, plus the validations to come
        at the last one's duration (before the first, ``val_steps`` batches at
        :data:`VALIDATION_STEP_FRACTION` of a step each), and never past the end of a time
        limit (``time_left``: the run stops before it); NaN before two steps of an epoch were
        timed."""
        if self.step_s is None:
            return math.nan
        return min(self._planned(), max(0.0, self.time_left()))

    def _planned(self) -> float:
        training = max(0, self.total - self.done) * self.step_s
        plan = self.validations
        if plan is None:
            return training
        each = plan.seconds if plan.seconds is not None else \
            self.val_steps * self.VALIDATION_STEP_FRACTION * self.step_s
        building = 0.0
        if plan.seconds is None and self.first_step_s is not None:
            building = self.GRAPH_BUILD_SHARE * max(0.0, self.first_step_s - self.step_s)
        if not plan.fixed and not plan.measured:   # the first, then at most ~10% of the rest
            return training + building + each + min(plan.TARGET_FRACTION * training,
                                                    (self.epochs_left() - 1) * each)
        return training + building + plan.remaining(self.epochs_left()) * each

    def callback(self, label: str, steps: int, learning_rate: float):
        """A Keras callback reporting each step: loss, the learning rate the step used (the
        optimizer's, so a warm-up shows its ramp; ``learning_rate`` when there is none) and
        the ETA."""
        import keras

        monitor = self

        class _Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                monitor.epoch_started()

            def on_train_batch_end(self, batch, logs=None):
                monitor.step_ended()
                loss = as_total(logs or {}).get("total")
                eta = monitor.eta()
                text = (f"{label} step {batch + 1}/{steps} loss "
                        f"{float(loss):.3f}" if loss is not None else f"{label} step {batch + 1}")
                text += f" lr {_rate_in_use(self.model, learning_rate):.2g}"
                if math.isfinite(eta):
                    text += f" ETA {format_duration(eta)}"
                monitor.progress(min(1.0, monitor.done / monitor.total), text)
                if monitor.cancel is not None and monitor.cancel.cancelled:
                    monitor.cancelled = True
                    self.model.stop_training = True

        return _Callback()


def _rate_in_use(model, fallback: float) -> float:
    optimizer = getattr(model, "optimizer", None) if model is not None else None
    try:
        return float(optimizer.learning_rate)
    except (AttributeError, TypeError, ValueError):
        return float(fallback)
