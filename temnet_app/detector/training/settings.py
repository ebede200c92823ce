"""What a training run is told to do: :class:`TrainSettings` (optimiser, plateau schedule,
batching, split, and the stage schedule of :data:`SCHEDULES`), checked on construction.

The schedules themselves are described in :mod:`.loop`; :meth:`TrainSettings.stage_of` maps
an epoch to its stage ("backbone", "rpn" or "all"). No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from temnet_app.core.errors import ModelError

__all__ = ["TrainSettings", "SCHEDULES"]

SCHEDULES = ("end-to-end", "staged", "paper")


@dataclass(frozen=True)
class TrainSettings:
    """How to train. ``epochs`` counts all stages; ``pretrain_epochs`` (paper schedule) and
    ``rpn_epochs`` (staged and paper schedules) are the first of them; ``steps_per_epoch``
    0 = one pass over the training crops, else that many batches of a fresh random order
    (detection stages; a pre-training epoch is always one pass over the virion crops);
    ``batch_size`` 0 = the config's; ``classifier_batch_size``: virion crops per batch."""

    epochs: int = 20
    schedule: str = "end-to-end"
    rpn_epochs: int = 0
    pretrain_epochs: int = 0
    classifier_batch_size: int = 32
    learning_rate: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    clip_norm: float = 5.0
    plateau_patience: int = 2
    lr_factor: float = 0.1
    min_learning_rate: float = 1e-5
    min_delta: float = 1e-3
    batch_size: int = 0
    steps_per_epoch: int = 0
    validation_fraction: float = 0.15
    seed: int = 0
    augment: bool = True
    map_every: int = 0            # validation mAP@0.5 every N epochs (0: only at the end)
    # validation loss every N epochs; 0: automatic, so that validating takes under ~10% of
    # the wall time (measured on the first epoch). The last epoch of each stage always is.
    validate_every: int = 0
    # learning-rate warm-up: the first N steps of each stage ramp the rate up linearly (0: off;
    # 100 did not raise the real-style benchmark's mAP, see benchmarks/real_style_training.py)
    warmup_steps: int = 0
    # gamma and defocus-blur augmentation on top of the default one (augment.APPEARANCE)
    appearance_augment: bool = False
    # scale jitter of the crops (augment.SCALE: half of them zoomed by 0.75-1.33x)
    scale_augment: bool = False
    # weight the head's classification loss by 1/sqrt(class frequency) (class_balance.py);
    # on by default: +1.5 mAP@0.5 on average over three seeds of the subtle-classes
    # real-style benchmark (benchmarks/real_style_training.py --subtle; README)
    balance_classes: bool = True
    # stop after the epoch past which another epoch would exceed this many minutes in all
    # (that epoch is validated, so the kept model is chosen as usual); 0: no limit
    time_limit_minutes: float = 0.0

    def __post_init__(self) -> None:
        def fail(message: str) -> None:
            raise ModelError(f"invalid training settings: {message}")

        if self.schedule not in SCHEDULES:
            fail(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.epochs < 1:
            fail(f"epochs must be at least 1, got {self.epochs}")
        if self.schedule == "staged" and not 1 <= self.rpn_epochs < self.epochs:
            fail(f"the staged schedule needs 1 <= rpn_epochs < epochs, got {self.rpn_epochs} "
                 f"of {self.epochs}")
        if self.schedule == "paper" and not (
                self.pretrain_epochs >= 1 and self.rpn_epochs >= 1
                and self.pretrain_epochs + self.rpn_epochs < self.epochs):
            fail(f"the paper schedule needs pretrain_epochs >= 1, rpn_epochs >= 1 and epochs "
                 f"left for the full detector, got {self.pretrain_epochs} + "
                 f"{self.rpn_epochs} of {self.epochs}")
        if self.schedule == "end-to-end" and self.rpn_epochs:
            fail("rpn_epochs needs the staged or paper schedule")
        if self.schedule != "paper" and self.pretrain_epochs:
            fail("pretrain_epochs needs the paper schedule")
        if self.classifier_batch_size < 1:
            fail(f"classifier_batch_size must be at least 1, got {self.classifier_batch_size}")
        if not self.learning_rate > 0 or not self.min_learning_rate > 0:
            fail("learning rates must be positive")
        if not 0.0 <= self.momentum < 1.0 or self.weight_decay < 0 or not self.clip_norm > 0:
            fail("momentum must be in [0, 1), weight_decay >= 0 and clip_norm > 0")
        if self.plateau_patience < 1 or not 0.0 < self.lr_factor < 1.0 or self.min_delta < 0:
            fail("plateau_patience >= 1, lr_factor in (0, 1) and min_delta >= 0 are needed")
        if self.batch_size < 0 or self.steps_per_epoch < 0 or self.map_every < 0 \
                or self.validate_every < 0 or self.warmup_steps < 0:
            fail("batch_size, steps_per_epoch, map_every, validate_every and warmup_steps "
                 "must not be negative")
        if not self.time_limit_minutes >= 0.0:
            fail(f"time_limit_minutes must not be negative, got {self.time_limit_minutes}")
        if not 0.0 <= self.validation_fraction < 1.0:
            fail(f"validation_fraction must be in [0, 1), got {self.validation_fraction}")

    def stage_of(self, epoch: int) -> str:
        """Training stage of epoch ``epoch`` (0-based): "backbone", "rpn" or "all"."""
        pretrain = self.pretrain_epochs if self.schedule == "paper" else 0
        if epoch < pretrain:
            return "backbone"
        if self.schedule in ("staged", "paper") and epoch < pretrain + self.rpn_epochs:
            return "rpn"
        return "all"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
