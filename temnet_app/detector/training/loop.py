"""Training the detector: SGD on the losses of eq. 1-3, plateau schedule, best checkpoint,
resume after interruption, progress and cancel through :mod:`temnet_app.core.progress`.

:func:`train` runs whole epochs. Optimiser: SGD, learning rate 0.01, momentum 0.9, decoupled
weight decay 1e-4 (not on biases and normalisation scales / offsets), gradient clip norm 5;
optionally the first ``warmup_steps`` steps of each stage ramp the rate up (:mod:`.warmup`).
After a validated epoch the validation loss (the summed losses on all the validation
micrographs' crops) decides: the lowest so far keeps ``best.weights.h5``; ``plateau_patience``
validations without a relative improvement of ``min_delta`` divide the learning rate by 10 (not
below ``min_learning_rate``). Validated epochs: every ``validate_every``-th, or by default
(:class:`ValidationPlan`) as often as keeps validation under ~10% of the wall time (the first
epoch is validated to measure it), and always the last epoch of each stage, so the kept model
is chosen on full validations. The ETA comes from a moving average of the seconds per step
(the first step of each epoch, which starts the input pipeline, left out) plus the
validations still to come. Schedules (``epochs`` counts the epochs of all stages):

* ``"end-to-end"`` (default): RPN and head together (stage "all") for every epoch;
* ``"staged"``: the RPN alone (stage "rpn") for ``rpn_epochs`` epochs, then everything;
* ``"paper"``, the paper's three stages (2.4): first the backbone as a classifier of isolated
  virion crops (stage "backbone", ``pretrain_epochs`` passes over the crops of
  :mod:`~temnet_app.detector.data.virion_crops`, batches of ``classifier_batch_size``, the head of
  :mod:`.classifier` dropped afterwards), then the RPN for ``rpn_epochs``, then everything.

A new stage starts from the best (lowest validation loss) weights of the stage before, as the
paper initialises each stage from the previous one's kept checkpoint, and restarts the learning
rate and the best-loss bookkeeping (losses of different stages are not comparable).

At the end the best weights are written as a model folder (``weights.weights.h5`` +
``model_card.json``, see :mod:`.card`) in ``out_dir``; ``out_dir/checkpoint`` holds what
``resume=True`` needs (:mod:`.state`). A cancel stops after the current batch: the
unfinished epoch is dropped, the checkpoint of the last finished epoch (with the best weights)
stays, and :class:`~temnet_app.core.errors.Cancelled` is raised.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from temnet_app.core.errors import Cancelled, ModelError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress, scaled
from temnet_app.detector.data import LabelledMicrograph, split_micrographs
from temnet_app.detector.model import DetectorConfig
from temnet_app.detector.training.class_balance import balanced_weights, label_counts
from temnet_app.detector.training.pacing import Monitor, ValidationPlan, as_total, format_duration
from temnet_app.detector.training.pretraining import Pretraining
from temnet_app.detector.training.settings import SCHEDULES, TrainSettings
from temnet_app.detector.training.state import (BEST_WEIGHTS, CHECKPOINT_DIR, LAST_WEIGHTS,
                                                OPTIMIZER_FILE, TrainState, load_optimizer,
                                                load_state, save_optimizer, save_state)
from temnet_app.detector.training.warmup import warmup_callback

__all__ = ["TrainSettings", "TrainResult", "SCHEDULES", "train", "load_checkpoint",
           "format_duration"]

_NO_DECAY = ["bias", "gamma", "beta"]


@dataclass
class TrainResult:
    """Outcome of :func:`train`: the model folder, the final state and the model card."""

    out_dir: Path
    state: TrainState
    card: dict


def _make_optimizer(settings: TrainSettings, learning_rate: float):
    import keras

    optimizer = keras.optimizers.SGD(learning_rate=learning_rate, momentum=settings.momentum,
                                     weight_decay=settings.weight_decay or None,
                                     clipnorm=settings.clip_norm)
    if settings.weight_decay:
        optimizer.exclude_from_weight_decay(var_names=_NO_DECAY)
    return optimizer


def _set_learning_rate(optimizer, value: float) -> None:
    optimizer.learning_rate.assign(float(value))


def _build_model(config: DetectorConfig, weights=None, seed: int = 0,
                 weights_config: Optional[DetectorConfig] = None):
    """``(parts, inference model)`` for ``config``: random weights drawn with ``seed``, or
    the ``.weights.h5`` file ``weights``; when ``weights_config`` (the configuration that
    wrote ``weights``) has other classes, everything but the class head is taken from it."""
    import keras

    from temnet_app.detector.model.assembly import build_inference_model, build_parts
    from temnet_app.detector.model.weights import load_weights, transfer_weights

    keras.utils.set_random_seed(int(seed))
    parts = build_parts(config)
    inference = build_inference_model(config, parts)
    if weights is not None and weights_config is not None and \
            weights_config.class_names != config.class_names:
        source = build_inference_model(weights_config)
        load_weights(source, weights)
        transfer_weights(inference, source)
    elif weights is not None:
        load_weights(inference, weights)
    return parts, inference


def load_checkpoint(out_dir):
    """``(state, config, inference model with the last epoch's weights)`` of the training
    checkpoint in ``out_dir`` (what ``resume=True`` starts from); ModelError if unusable."""
    ckpt = Path(out_dir) / CHECKPOINT_DIR
    state = load_state(ckpt)
    config = DetectorConfig.from_dict(state.config)
    _, inference = _build_model(config, ckpt / LAST_WEIGHTS)
    return state, config, inference


def _resolve_split(micrographs, settings, state: Optional[TrainState]):
    if state is not None and state.split:
        train_keys, val_keys = set(state.split["train"]), set(state.split["validation"])
        have = {m.key for m in micrographs}
        lost = sorted((train_keys | val_keys) - have)
        if lost:
            raise ModelError(f"cannot resume: {len(lost)} micrograph(s) of the interrupted run "
                             f"are not in the data given now (e.g. {lost[0]})")
        from temnet_app.detector.data.labelled import DatasetSplit

        return DatasetSplit(**{**state.split, "train": tuple(state.split["train"]),
                               "validation": tuple(state.split["validation"]),
                               "notes": tuple(state.split.get("notes", ()))})
    return split_micrographs(micrographs, settings.validation_fraction, settings.seed)


def train(micrographs: Sequence[LabelledMicrograph], config: DetectorConfig, out_dir,
          settings: TrainSettings = TrainSettings(), *, init_weights=None,
          init_config: Optional[DetectorConfig] = None, resume: bool = False,
          name: Optional[str] = None, version: str = "1", command: str = "",
          notes: Sequence[str] = (), evaluate_model: bool = True,
          progress: Optional[ProgressFn] = None,
          cancel: Optional[CancelToken] = None) -> TrainResult:
    """Train a detector on ``micrographs`` and write the best one to ``out_dir``.

    ``config`` is ignored when resuming (the checkpoint's config is used, and its settings
    except ``epochs``, which may be raised to extend a finished run). ``init_weights``: a
    ``.weights.h5`` of the same architecture to start from (fine-tuning); ``init_config``,
    the configuration that wrote it, lets it have other classes (the class head then starts
    afresh). ``command`` and
    ``notes`` go into the model card; ``evaluate_model`` runs the Detector on the validation
    micrographs for the card's metrics. Raises ModelError on an unusable checkpoint or
    output folder and Cancelled when ``cancel`` fires.
    """
    import keras

    from temnet_app.detector.data.augment import APPEARANCE, NO_AUGMENTATION, SCALE, AugmentSettings
    from temnet_app.detector.data.pipeline import CropSettings, CropSource, make_dataset
    from temnet_app.detector.model.weights import load_weights, save_weights
    from temnet_app.detector.training.card import build_card, validation_metrics
    from temnet_app.detector.training.graph import TrainingModel

    keras.utils.set_random_seed(int(settings.seed))
    progress = progress or no_progress
    out = Path(out_dir)
    ckpt = out / CHECKPOINT_DIR
    micrographs = list(micrographs)
    if not micrographs:
        raise ModelError("no labelled micrographs to train on")
    state: Optional[TrainState] = None
    if resume:
        state = load_state(ckpt)
        config = DetectorConfig.from_dict(state.config)
        stored = {k: v for k, v in state.settings.items() if k != "epochs"}
        settings = TrainSettings(**stored, epochs=settings.epochs)
        if state.epoch >= settings.epochs and state.finished:
            raise ModelError(f"the run in {out} already finished {state.epoch} epochs; pass "
                             f"more epochs to continue it")
    elif (ckpt / "state.json").exists():
        raise ModelError(f"{out} already holds a training checkpoint: resume it (--resume) or "
                         f"choose another output folder")
    split = _resolve_split(micrographs, settings, state)
    train_ms, val_ms = split.select(micrographs)
    if not train_ms:
        raise ModelError("the split left no micrograph to train on")
    val_note = ""
    if not val_ms:
        val_ms, val_note = train_ms, "no validation micrographs: validated on the training set"

    check_cancel(cancel)
    crop_settings = CropSettings()
    train_src = CropSource(train_ms, config, crop_settings,
                           progress=scaled(progress, 0.0, 0.02), cancel=cancel)
    val_src = CropSource(val_ms, config, crop_settings,
                         progress=scaled(progress, 0.02, 0.04), cancel=cancel)
    batch = settings.batch_size or config.batch_size
    start_epoch = state.epoch if state else 0
    aug = (APPEARANCE if settings.appearance_augment else AugmentSettings()) \
        if settings.augment else NO_AUGMENTATION
    if settings.augment and settings.scale_augment:
        aug = dataclasses.replace(aug, scale_probability=SCALE.scale_probability,
                                  scale=SCALE.scale)
    train_ds = make_dataset(train_src, config, True, batch, seed=settings.seed * 1009 +
                            start_epoch, augmentation=aug)
    steps = settings.steps_per_epoch or int(math.ceil(train_src.crops_per_epoch() / batch))
    if settings.steps_per_epoch:
        train_ds = train_ds.repeat()
    val_ds = make_dataset(val_src, config, False, batch, seed=settings.seed)
    pretrain = Pretraining(settings, config, train_src, val_src, aug, start_epoch,
                           cancel) if settings.schedule == "paper" else None

    def steps_of(stage: str) -> int:
        return pretrain.steps if stage == "backbone" else steps

    parts, inference = _build_model(
        config, ckpt / LAST_WEIGHTS if state is not None else init_weights,
        seed=int(settings.seed) + start_epoch,
        weights_config=init_config if state is None else None)
    if state is None:
        state = TrainState(stage=settings.stage_of(0), learning_rate=settings.learning_rate,
                           config=config.to_dict(), settings=settings.to_dict(),
                           split=split.to_dict())
    state.settings, state.finished = settings.to_dict(), False
    ckpt.mkdir(parents=True, exist_ok=True)

    stages = [settings.stage_of(e) for e in range(settings.epochs)]
    validations = ValidationPlan(settings.validate_every)
    current = {"epoch": start_epoch, "began": time.monotonic()}

    def time_left() -> float:   # under --time-limit (inf without one)
        if not settings.time_limit_minutes:
            return math.inf
        return 60.0 * settings.time_limit_minutes - state.elapsed_s - (
            time.monotonic() - current["began"])

    monitor = Monitor(progress=scaled(progress, 0.04, 0.96), cancel=cancel,
                      total_steps=sum(steps_of(st) for st in stages),
                      steps_done=sum(steps_of(st) for st in stages[:start_epoch]),
                      validations=validations,
                      epochs_left=lambda: settings.epochs - current["epoch"],
                      val_steps=int(math.ceil(val_src.crops_per_epoch() / batch)),
                      time_left=time_left)
    loss_weights = None
    if settings.balance_classes:
        loss_weights = balanced_weights(label_counts(train_src.plans, config.num_classes))
        progress(0.04, "class-balanced loss weights " + ", ".join(
            f"{n} {w:.2f}" for n, w in zip(config.class_names, loss_weights[1:])))
    model = optimizer = model_stage = None
    resumed_optimizer = state.epoch > 0
    for epoch in range(start_epoch, settings.epochs):
        check_cancel(cancel)
        current["epoch"] = epoch
        stage = stages[epoch]
        if stage != state.stage:  # a new stage: from the last stage's best weights, fresh lr
            if (ckpt / BEST_WEIGHTS).is_file():
                load_weights(inference, ckpt / BEST_WEIGHTS)
            state.stage, state.learning_rate = stage, settings.learning_rate
            state.best_val_loss, state.plateau_wait = math.inf, 0
            resumed_optimizer = False
        if model is None or model_stage != stage:
            optimizer = _make_optimizer(settings, state.learning_rate)
            if stage == "backbone":
                model = pretrain.model(parts, ckpt if resumed_optimizer else None)
                pretrain.compile(model, optimizer)
            else:
                model = TrainingModel(parts, stage=stage, seed=settings.seed,
                                      class_weights=loss_weights)
                model.compile(optimizer=optimizer)
            if resumed_optimizer and (ckpt / OPTIMIZER_FILE).is_file():
                load_optimizer(ckpt / OPTIMIZER_FILE, optimizer, model.trainable_variables)
            resumed_optimizer = False
            model_stage = stage
            _set_learning_rate(optimizer, state.learning_rate)
        label = f"epoch {epoch + 1}/{settings.epochs} [{stage}]"
        began = current["began"] = time.monotonic()
        if stage == "backbone":
            stage_train, stage_val, fit_kwargs = pretrain.train_ds, pretrain.val_ds, {}
        else:
            stage_train, stage_val = train_ds, val_ds
            fit_kwargs = {"steps_per_epoch": steps} if settings.steps_per_epoch else {}
        warm = warmup_callback(optimizer, state.learning_rate, settings.warmup_steps,
                               (epoch - stages.index(stage)) * steps_of(stage))
        history = model.fit(stage_train, epochs=1, verbose=0, shuffle=False, **fit_kwargs,
                            callbacks=[c for c in (warm, monitor.callback(
                                label, steps_of(stage), state.learning_rate)) if c])
        _set_learning_rate(optimizer, state.learning_rate)  # the end of a warm-up in this epoch
        if monitor.cancelled:
            raise Cancelled(f"training cancelled during epoch {epoch + 1}; the checkpoint of "
                            f"epoch {state.epoch} is kept in {ckpt}")
        trained_s = time.monotonic() - began
        train_logs = as_total({k: v[-1] for k, v in history.history.items()})
        if not math.isfinite(train_logs.get("total", math.nan)):
            raise ModelError(f"training diverged at epoch {epoch + 1} (loss is not finite); "
                             f"the checkpoint of epoch {state.epoch} is kept in {ckpt}")
        # out of time: another epoch like this one would pass the limit, so this is the last
        limit_s = 60.0 * settings.time_limit_minutes
        out_of_time = bool(limit_s) and epoch + 1 < settings.epochs and \
            state.elapsed_s + 2.0 * (time.monotonic() - began) > limit_s
        last_of_stage = epoch + 1 == settings.epochs or stages[epoch + 1] != stage or out_of_time
        entry = {"epoch": epoch + 1, "stage": stage, "learning_rate": state.learning_rate,
                 "train": train_logs, "validation": {}}
        if validations.due(last_of_stage):
            validating = time.monotonic()
            monitor.progress(monitor.done / monitor.total, f"{label} validating")
            val = as_total(model.evaluate(stage_val, verbose=0, return_dict=True))
            val_loss = float(val["total"])
            if not math.isfinite(val_loss):
                raise ModelError(f"training diverged at epoch {epoch + 1} (validation loss is "
                                 f"not finite); the checkpoint of epoch {state.epoch} is kept "
                                 f"in {ckpt}")
            entry["validation"] = {k: float(v) for k, v in val.items()}
            if val_loss < state.best_val_loss - settings.min_delta * abs(state.best_val_loss) \
                    or not math.isfinite(state.best_val_loss):
                state.best_val_loss, state.best_epoch, state.plateau_wait = \
                    val_loss, epoch + 1, 0
                save_weights(inference, ckpt / BEST_WEIGHTS)
                entry["best"] = True
            else:
                state.plateau_wait += 1
                if state.plateau_wait >= settings.plateau_patience:
                    new_lr = max(state.learning_rate * settings.lr_factor,
                                 settings.min_learning_rate)
                    state.learning_rate, state.plateau_wait = new_lr, 0
                    _set_learning_rate(optimizer, new_lr)
            if settings.map_every and stage == "all" and (epoch + 1) % settings.map_every == 0:
                monitor.progress(monitor.done / monitor.total, f"{label} validation mAP")
                scored = validation_metrics(config, inference, val_ms, cancel=cancel)
                entry["val_map"] = scored["at_0.5"]["map"]
            # a typical epoch: the steps at their moving average (the first epoch's wall time
            # also holds the one-time building of the training graph)
            typical_s = monitor.step_s * steps_of(stage) if monitor.step_s else trained_s
            validations.record(typical_s, time.monotonic() - validating)
            entry["validation_seconds"] = round(time.monotonic() - validating, 1)
        state.epoch = epoch + 1
        state.elapsed_s += time.monotonic() - began
        entry["seconds"] = round(time.monotonic() - began, 1)
        state.history.append(entry)
        save_weights(inference, ckpt / LAST_WEIGHTS)
        if stage == "backbone":
            pretrain.save_head(model, ckpt)
        save_optimizer(ckpt / OPTIMIZER_FILE, optimizer)
        save_state(ckpt, state)
        scored_map = f" val mAP {entry['val_map'] * 100:.1f}%" if "val_map" in entry else ""
        checked = f"val {entry['validation']['total']:.3f}" if entry["validation"] else \
            f"not validated (every {validations.every} epochs)"
        monitor.progress(monitor.done / monitor.total,
                         f"{label} loss {train_logs.get('total', math.nan):.3f} {checked} "
                         f"(best {state.best_val_loss:.3f} at epoch {state.best_epoch}) lr "
                         f"{state.learning_rate:.2g}{scored_map}")
        if out_of_time:
            monitor.progress(monitor.done / monitor.total,
                             f"time limit of {settings.time_limit_minutes:g} min reached after "
                             f"epoch {epoch + 1}")
            break

    check_cancel(cancel)
    load_weights(inference, ckpt / BEST_WEIGHTS)
    metrics = None
    if evaluate_model:
        metrics = validation_metrics(config, inference, val_ms, cancel=cancel,
                                     progress=scaled(progress, 0.96, 0.995))
    card = build_card(config, name or out.name, version, settings=settings, state=state,
                      train_source=train_src, val_source=val_src, split=split,
                      command=command, notes=[*notes, *([val_note] if val_note else [])],
                      metrics=metrics,
                      pretraining=pretrain.describe() if pretrain is not None else None,
                      class_weights=loss_weights)
    from temnet_app.detector.inference import Detector

    Detector(config, inference, name=card["name"], version=version, card=card).save(out, card)
    state.finished = True
    save_state(ckpt, state)
    progress(1.0, f"saved {out} (best validation loss {state.best_val_loss:.3f} at epoch "
                  f"{state.best_epoch})")
    return TrainResult(out, state, card)
