"""Training checkpoints: what ``temnet train --resume`` needs, written without pickle.

A checkpoint folder (``<out>/checkpoint``) holds

* ``last.weights.h5`` - the detector weights after the last finished epoch (Keras weights
  file of the inference model, the same format as a shipped model);
* ``best.weights.h5`` - the weights of the epoch with the lowest validation loss so far;
* ``optimizer.npz`` - the optimizer's variables (iterations, learning rate, momentum slots) as
  plain numpy arrays, in the optimizer's own variable order, read with ``allow_pickle=False``;
* ``state.json`` - epoch counter, stage, learning rate, best validation loss and epoch,
  plateau counter, loss history, the detector config, the training settings and the split.

Every file is written atomically; ``state.json`` is written last, so a state file always
describes weight files that are complete.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from temnet_app.core.atomic import atomic_path, atomic_write_text
from temnet_app.core.errors import ModelError

__all__ = ["TrainState", "CHECKPOINT_DIR", "STATE_FILE", "LAST_WEIGHTS", "BEST_WEIGHTS",
           "CLASSIFIER_HEAD", "save_variables", "load_variables",
           "OPTIMIZER_FILE", "save_state", "load_state", "save_optimizer", "load_optimizer"]

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.json"
LAST_WEIGHTS = "last.weights.h5"
BEST_WEIGHTS = "best.weights.h5"
CLASSIFIER_HEAD = "classifier_head.npz"  # the paper schedule's pre-training head
OPTIMIZER_FILE = "optimizer.npz"
STATE_FORMAT = 1


@dataclass
class TrainState:
    """Progress of a training run. ``epoch`` counts finished epochs (over all stages);
    ``best_val_loss`` / ``best_epoch`` refer to the current stage (losses of different stages
    are not comparable); ``plateau_wait`` counts epochs since the last improvement."""

    epoch: int = 0
    stage: str = "all"
    learning_rate: float = 0.01
    best_val_loss: float = math.inf
    best_epoch: int = 0
    plateau_wait: int = 0
    history: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    split: dict = field(default_factory=dict)
    elapsed_s: float = 0.0
    finished: bool = False

    def to_json(self) -> str:
        data = asdict(self)
        data["state_format"] = STATE_FORMAT
        data["best_val_loss"] = None if not math.isfinite(self.best_val_loss) else \
            self.best_val_loss
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> "TrainState":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ModelError(f"checkpoint state {where} is not valid JSON (line "
                             f"{error.lineno}: {error.msg})") from None
        if not isinstance(data, dict) or data.pop("state_format", None) != STATE_FORMAT:
            raise ModelError(f"checkpoint state {where} is not a format-{STATE_FORMAT} "
                             f"training state")
        if data.get("best_val_loss") is None:
            data["best_val_loss"] = math.inf
        if isinstance(data.get("settings"), dict):
            # a checkpoint from before class balancing existed trained without it (now on
            # by default), so it goes on without it
            data["settings"].setdefault("balance_classes", False)
        try:
            return cls(**data)
        except TypeError as error:
            raise ModelError(f"checkpoint state {where} is malformed: {error}") from None


def save_state(folder: Path, state: TrainState) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / STATE_FILE, state.to_json())
    return folder / STATE_FILE


def load_state(folder: Path) -> TrainState:
    """The state in checkpoint folder ``folder``; ModelError when missing or unreadable."""
    path = Path(folder) / STATE_FILE
    if not path.is_file():
        raise ModelError(f"nothing to resume: no training checkpoint at {path}")
    for name in (LAST_WEIGHTS,):
        if not (Path(folder) / name).is_file():
            raise ModelError(f"checkpoint {folder} is incomplete: {name} is missing")
    return TrainState.from_json(path.read_text(encoding="utf-8"), str(path))


def save_variables(path: Path, variables) -> Path:
    """Variables' values as ``v000, v001, ...`` arrays in an ``.npz`` (atomic, no pickle)."""
    arrays = {f"v{i:03d}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return path


def load_variables(path: Path, variables, what: str) -> None:
    """Assign the arrays of :func:`save_variables` to ``variables`` in order; ModelError
    (naming ``what``) when the file is unreadable or the count or a shape differs."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = [data[f"v{i:03d}"] for i in range(len(data.files))]
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(f"cannot read {what} {path}: {error}") from None
    targets = list(variables)
    if len(arrays) != len(targets):
        raise ModelError(f"{what} {path} holds {len(arrays)} arrays, the model has "
                         f"{len(targets)}: it belongs to another training run")
    for array, variable in zip(arrays, targets):
        if tuple(array.shape) != tuple(variable.shape):
            raise ModelError(f"{what} {path} does not fit this model "
                             f"({array.shape} vs {tuple(variable.shape)})")
        variable.assign(array.astype(variable.dtype))


def save_optimizer(path: Path, optimizer) -> Path:
    """The optimizer's variables (see :func:`save_variables`)."""
    return save_variables(path, optimizer.variables)


def load_optimizer(path: Path, optimizer, variables) -> None:
    """Build ``optimizer`` on ``variables`` and assign the arrays saved by
    :func:`save_optimizer`; ModelError when the count or a shape differs."""
    optimizer.build(variables)
    load_variables(path, optimizer.variables, "optimizer state")
