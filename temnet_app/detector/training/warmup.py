"""Learning-rate warm-up: the first steps of each training stage ramp the learning rate up
linearly from ``1/N`` of its value to the full value over ``N`` steps.

SGD with momentum 0.9 at the full rate on freshly initialised heads (a new model, or a class
head replaced for a lab's own classes) can throw the weights far in the first steps; ramping
up lets the first gradients settle first. The ramp is a pure function of the step within the
stage, so a resumed run continues it exactly where an uninterrupted one would be.
"""

from __future__ import annotations


def warmup_factor(step: int, warmup_steps: int) -> float:
    """The fraction of the learning rate used at 0-based ``step`` of a stage."""
    if warmup_steps <= 0 or step >= warmup_steps:
        return 1.0
    return (step + 1) / warmup_steps


def warmup_callback(optimizer, learning_rate: float, warmup_steps: int, steps_before: int):
    """A Keras callback setting ``optimizer``'s rate before each batch of an epoch whose first
    batch is step ``steps_before`` of its stage (None when the epoch is past the warm-up)."""
    if warmup_steps <= 0 or steps_before >= warmup_steps:
        return None
    import keras

    class _WarmUp(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            step = steps_before + batch
            if step <= warmup_steps:
                optimizer.learning_rate.assign(
                    float(learning_rate) * warmup_factor(step, warmup_steps))

    return _WarmUp()
