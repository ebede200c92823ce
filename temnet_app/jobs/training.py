"""Training from the window: the ``temnet train`` command for a plan (run as a subprocess, so a
cancel is a clean kill and the command is the provenance), sensible defaults and a time
estimate, the live state a run leaves in its checkpoint, and the project's list of models."""

from __future__ import annotations

import json
import math
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from temnet_app.core.errors import ModelError

MODELS_SETTING = "models"
CHECKPOINT_STATE = Path("checkpoint") / "state.json"
# measured: one training step (4 crops of 192 px, compact TEMNet-GN) takes about this long on
# a 2-core CPU; the dialog's ETA replaces the estimate with the run's own speed
SECONDS_PER_STEP_2_CORES = 0.9
CROPS_PER_MICROGRAPH = 16      # 4000 x 2620 at 30,000x in 1,024-px windows, 75% rule
SECONDS_PER_VALIDATION_MICROGRAPH = 1.5


@dataclass(frozen=True)
class TrainingPlan:
    """What the training dialog asks for. ``init`` is a model folder to fine-tune from, None
    for training from scratch."""

    project: Path
    out: Path
    init: Optional[Path]
    epochs: int
    experiments: tuple[str, ...] = ()
    reviewed_only: bool = False
    validation_fraction: float = 0.2
    steps_per_epoch: int = 0
    val_map_every: int = 1
    name: Optional[str] = None
    resume: bool = False

    def arguments(self) -> list[str]:
        """The arguments after ``temnet``."""
        args = ["train", "--data", str(self.project), "--out", str(self.out),
                "--epochs", str(self.epochs),
                "--validation-fraction", f"{self.validation_fraction:g}"]
        for name in self.experiments:
            args += ["--experiment", name]
        if self.reviewed_only:
            args.append("--reviewed-only")
        if self.init is not None:
            args += ["--init", str(self.init)]
        elif not self.resume:
            args.append("--from-scratch")
        if self.steps_per_epoch:
            args += ["--steps-per-epoch", str(self.steps_per_epoch)]
        if self.val_map_every:
            args += ["--val-map-every", str(self.val_map_every)]
        if self.name:
            args += ["--name", self.name]
        if self.resume:
            args.append("--resume")
        return args

    def command(self) -> str:
        """As typed in a terminal."""
        return shlex.join(["temnet", *self.arguments()])

    def argv(self) -> list[str]:
        """The process to start: the ``temnet`` CLI of this installation."""
        return [*cli_prefix(), *self.arguments()]


def cli_prefix() -> list[str]:
    """How to run ``temnet`` here: this Python with ``-m temnet_app`` from source; in a frozen
    bundle its console executable (``temnet``, beside the windowed one), else the bundle's own
    executable, which takes the same sub-commands."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable)
        console = exe.with_name("temnet" + exe.suffix)
        return [str(console if console.is_file() else exe)]
    return [sys.executable, "-m", "temnet_app"]


def default_epochs(n_micrographs: int, fine_tune: bool) -> int:
    """Epochs that suit ``n_micrographs`` labelled micrographs: few micrographs need more
    passes; fine-tuning needs fewer than training from scratch."""
    if fine_tune:
        return int(min(15, max(4, math.ceil(48 / max(1, n_micrographs)))))
    return int(min(60, max(20, math.ceil(400 / max(1, n_micrographs)))))


def estimate_seconds(n_micrographs: int, epochs: int, validation_fraction: float,
                     steps_per_epoch: int = 0, val_map_every: int = 1,
                     cores: Optional[int] = None) -> float:
    """A rough duration of a run on this machine (the dialog shows it as "about ...").

    Validations follow the trainer's automatic plan: the first and the last epoch, and in
    between every ``ceil(9 x validation / epoch)``-th (validation under ~10% of the time);
    scoring (mAP) happens on validated epochs."""
    cores = cores or os.cpu_count() or 2
    n_val = max(1, round(n_micrographs * validation_fraction))
    n_train = max(1, n_micrographs - n_val)
    steps = steps_per_epoch or math.ceil(n_train * CROPS_PER_MICROGRAPH / 4)
    per_step = SECONDS_PER_STEP_2_CORES * 2.0 / max(1, min(cores, 16))
    training = steps * per_step
    validation = n_val * CROPS_PER_MICROGRAPH / 4 * per_step / 3
    scoring = n_val * SECONDS_PER_VALIDATION_MICROGRAPH if val_map_every else 0.0
    every = max(1, math.ceil(9.0 * (validation + scoring) / max(training, 1e-6)))
    validations = min(epochs, 2 + max(0, epochs - 2) // every) if epochs > 1 else 1
    return epochs * training + validations * (validation + scoring) + 20.0   # + start, card


@dataclass
class TrainingState:
    """What a run has done so far, read from its checkpoint (None fields: not yet known)."""

    epoch: int = 0
    epochs: int = 0
    finished: bool = False
    history: list = field(default_factory=list)

    @property
    def train_loss(self) -> list[float]:
        return [h.get("train", {}).get("total", math.nan) for h in self.history]

    @property
    def val_loss(self) -> list[float]:
        return [h.get("validation", {}).get("total", math.nan) for h in self.history]

    @property
    def val_map(self) -> list[tuple[int, float]]:
        return [(h["epoch"], h["val_map"]) for h in self.history if "val_map" in h]


def read_training_state(out_dir) -> Optional[TrainingState]:
    """The checkpoint state of the run writing ``out_dir``, or None before its first epoch
    (or when the file is being replaced: the caller asks again later)."""
    path = Path(out_dir) / CHECKPOINT_STATE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return TrainingState(epoch=int(data.get("epoch", 0)),
                         epochs=int((data.get("settings") or {}).get("epochs", 0)),
                         finished=bool(data.get("finished")),
                         history=list(data.get("history") or []))


def can_resume(out_dir) -> bool:
    state = read_training_state(out_dir)
    return state is not None and not state.finished


# ----------------------------------------------------------------- the project's models
def project_models(project) -> list[Path]:
    """The model folders the project knows: the default shipped model first, the other shipped
    models, then the ones trained or added in it (those that still exist)."""
    from temnet_app.core.locations import model_folder
    from temnet_app.jobs.models import SHIPPED_MODEL_NAMES, default_model_dir

    folders = [default_model_dir()]
    folders += [f for f in map(model_folder, SHIPPED_MODEL_NAMES[1:]) if f.is_dir()]
    for text in project.setting(MODELS_SETTING, []) or []:
        folder = Path(text)
        if folder.is_dir() and folder not in folders:
            folders.append(folder)
    return folders


def register_model(project, folder) -> None:
    """Remember ``folder`` (a model folder with a card) in the project's model list."""
    from temnet_app.jobs.models import describe_model

    folder = Path(folder).resolve()
    describe_model(folder)          # a folder without a usable card is refused here
    known = [str(Path(p)) for p in project.setting(MODELS_SETTING, []) or []]
    if str(folder) not in known:
        project.set_setting(MODELS_SETTING, [*known, str(folder)])


def trained_on(model_dir) -> set[str]:
    """The micrograph keys a model's card lists as training or validation data."""
    try:
        card = json.loads((Path(model_dir) / "model_card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read the card of {model_dir}: {error}") from None
    split = ((card.get("training_data") or {}).get("split") or {})
    return {str(k) for part in ("train", "validation") for k in split.get(part, [])}


def untouched_micrographs(project, micrograph_ids: Sequence[int],
                          model_dirs: Sequence) -> list[int]:
    """Those of ``micrograph_ids`` that no model in ``model_dirs`` trained or validated on
    (matched by the project key ``EXPERIMENT/PATH`` the training data records)."""
    used: set[str] = set()
    for folder in model_dirs:
        used |= trained_on(folder)
    names = {e.id: e.name for e in project.experiments()}
    keep = []
    for mid in micrograph_ids:
        m = project.micrograph(mid)
        key = f"{names[m.experiment_id]}/{m.path}"
        if not any(k == key or k.endswith("/" + key) for k in used):
            keep.append(mid)
    return keep
