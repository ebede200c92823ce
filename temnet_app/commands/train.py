"""``temnet train``: train (or fine-tune) a detector on labelled micrographs and write a model
folder (weights + model card) with a resumable checkpoint inside it."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from temnet_app.commands._common import classes_arg, whole_number

HELP = "train or fine-tune a detector on labelled micrographs (folders with VIA CSV, projects)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from temnet_app.detector import SCHEDULES

    parser.add_argument("--data", type=Path, nargs="+", required=True, metavar="DIR_OR_PROJECT",
                        help="dataset folder(s) (images + VIA CSV, or train/ and val/ folders) "
                             "or *.temnet project(s) with manual annotations")
    parser.add_argument("--experiment", action="append", default=None, metavar="NAME",
                        help="projects only: train on this experiment's annotated micrographs "
                             "(repeat for several; default: all)")
    parser.add_argument("--reviewed-only", action="store_true",
                        help="projects only: only micrographs marked reviewed")
    parser.add_argument("--val-map-every", type=whole_number(0), default=0, metavar="N",
                        help="score the validation micrographs (mAP@0.5) every N epochs, "
                             "for the learning curves (default 0: only at the end); only "
                             "validated epochs are scored")
    parser.add_argument("--validate-every", type=whole_number(0), default=0, metavar="N",
                        help="validation loss every N epochs (default 0: automatic, keeping "
                             "validation under ~10%% of the time; the last epoch of each stage "
                             "is always validated, and the kept model chosen on them)")
    parser.add_argument("--classes", default=None, metavar="NAME[:#RRGGBB],...",
                        help="the classes to learn, in order (ids 1, 2, ...), each with an "
                             "optional colour, e.g. 'RiftValley:#e41a1c,Ebola,Marburg'; "
                             "default: eccentric, mature, immature (the HIV classes), or the "
                             "classes the labels use when they use others")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="model folder to write (e.g. models/my-lab); its checkpoint/ "
                             "sub-folder holds what --resume needs")
    parser.add_argument("--backbone", default="temnet-gn",
                        help="feature extractor (default temnet-gn)")
    parser.add_argument("--preset", default="compact", choices=("compact", "paper"),
                        help="detector configuration preset (default compact, the shipped one)")
    parser.add_argument("--init", type=Path, default=None, metavar="MODEL_DIR",
                        help="start from this model's weights (fine-tuning); its configuration "
                             "is used (default: the shipped model, for the compact temnet-gn "
                             "detector)")
    parser.add_argument("--from-scratch", action="store_true",
                        help="start from random weights instead of the shipped model")
    parser.add_argument("--warmup-steps", type=whole_number(0, 1_000_000), default=0,
                        metavar="N", help="ramp the learning rate up over the first N steps "
                                          "of each stage (default 0: off)")
    parser.add_argument("--appearance-augment", action="store_true",
                        help="also vary the crops' gamma and defocus blur")
    parser.add_argument("--scale-augment", action="store_true",
                        help="also zoom half of the crops by 0.75-1.33x (virion sizes and "
                             "magnification calibrations vary)")
    parser.add_argument("--balance-classes", action=argparse.BooleanOptionalAction,
                        default=True,
                        help="weight the classification loss by 1/sqrt(class frequency), so "
                             "rare classes count more (default: on)")
    parser.add_argument("--rois-per-crop", type=whole_number(8, 1024), default=0, metavar="N",
                        help="RoIs sampled per crop to train the head (default: the "
                             "model's, 50 for the shipped one); more gives more background "
                             "RoIs (hard negatives) per crop")
    parser.add_argument("--net-input", type=whole_number(64, 4096), default=0, metavar="PX",
                        help="network side of a training window (a multiple of 32; default: "
                             "the starting model's, 512). 256 gives the network a quarter of "
                             "the pixels (about 2.5x faster detection); the anchors are scaled "
                             "alike")
    parser.add_argument("--epochs", type=whole_number(1, 100_000), default=20,
                        help="epochs in all (default 20)")
    parser.add_argument("--time-limit", type=float, default=0.0, metavar="MINUTES",
                        help="stop after the epoch past which one more would exceed MINUTES "
                             "of training in all (that epoch is validated; default: none)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted (or finished, with more --epochs) run "
                             "in --out")
    parser.add_argument("--schedule", default="end-to-end",
                        choices=SCHEDULES,
                        help="end-to-end (default); staged: RPN alone first, then everything; "
                             "paper: backbone pre-trained as a classifier of isolated virion "
                             "crops, then the RPN, then everything")
    parser.add_argument("--rpn-epochs", type=whole_number(0, 100_000), default=0,
                        help="staged and paper schedules: epochs of the RPN-only stage")
    parser.add_argument("--pretrain-epochs", type=whole_number(0, 100_000), default=0,
                        help="paper schedule: passes over the virion crops in the classifier "
                             "pre-training stage")
    parser.add_argument("--steps-per-epoch", type=whole_number(0, 10_000_000), default=0,
                        help="batches per epoch (default: one pass over the training crops)")
    parser.add_argument("--batch-size", type=whole_number(0, 4096), default=0,
                        help="crops per batch (default: the configuration's, 4)")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="initial SGD learning rate (default 0.01 from scratch; when "
                             "fine-tuning 0.001 for short runs, so the model adapts instead of "
                             "being overwritten, and 0.01 for long ones: --time-limit of 20 "
                             "min or more, or without one --epochs 30 or more)")
    parser.add_argument("--validation-fraction", type=float, default=0.15,
                        help="fraction of micrographs held out for validation (default 0.15; "
                             "train/ and val/ folders are used as they are)")
    parser.add_argument("--seed", type=int, default=0, help="split / sampling seed (default 0)")
    parser.add_argument("--no-augment", action="store_true", help="switch augmentation off")
    parser.add_argument("--name", default=None, help="model name (default: the --out folder name)")
    parser.add_argument("--version", default="1", help="model version (default 1)")
    parser.add_argument("--note-file", type=Path, default=None,
                        help="text file whose paragraphs go into the model card's notes")


def command_line(args: argparse.Namespace) -> str:
    """The command with every option spelled out (what the model card records)."""
    parts = ["temnet", "train", "--data", *[str(p) for p in args.data]]
    for name in args.experiment or ():
        parts += ["--experiment", name]
    if args.reviewed_only:
        parts.append("--reviewed-only")
    if args.classes:
        parts += ["--classes", args.classes]
    parts += ["--out", str(args.out),
             "--backbone", args.backbone, "--preset", args.preset, "--epochs", str(args.epochs),
             "--schedule", args.schedule]
    if args.schedule == "paper":
        parts += ["--pretrain-epochs", str(args.pretrain_epochs)]
    if args.schedule in ("staged", "paper"):
        parts += ["--rpn-epochs", str(args.rpn_epochs)]
    if args.net_input:
        parts += ["--net-input", str(args.net_input)]
    if args.from_scratch:
        parts.append("--from-scratch")
    if args.warmup_steps:
        parts += ["--warmup-steps", str(args.warmup_steps)]
    if args.appearance_augment:
        parts.append("--appearance-augment")
    if args.scale_augment:
        parts.append("--scale-augment")
    if not args.balance_classes:
        parts.append("--no-balance-classes")
    if args.rois_per_crop:
        parts += ["--rois-per-crop", str(args.rois_per_crop)]
    if args.time_limit:
        parts += ["--time-limit", f"{args.time_limit:g}"]
    for flag, value in (("--init", args.init), ("--steps-per-epoch", args.steps_per_epoch),
                        ("--batch-size", args.batch_size), ("--name", args.name),
                        ("--note-file", args.note_file)):
        if value:
            parts += [flag, str(value)]
    if args.learning_rate is not None:
        parts += ["--learning-rate", f"{args.learning_rate:g}"]
    parts += ["--validation-fraction", f"{args.validation_fraction:g}", "--seed", str(args.seed),
              "--version", str(args.version)]
    if args.val_map_every:
        parts += ["--val-map-every", str(args.val_map_every)]
    if args.validate_every:
        parts += ["--validate-every", str(args.validate_every)]
    if args.no_augment:
        parts.append("--no-augment")
    if args.resume:
        parts.append("--resume")
    return shlex.join(parts)


class LineProgress:
    """Progress for training logs: a line per 1% of the run and for every epoch summary
    (messages holding a validation loss), each stamped with the wall time."""

    def __init__(self, stream=None, step: float = 0.01):
        self.stream = stream if stream is not None else sys.stderr
        self.step = step
        self._last = -1.0

    def __call__(self, fraction: float, message: str) -> None:
        summary = " val " in message or message.startswith(("saved", "time limit"))
        if summary or fraction - self._last >= self.step or fraction >= 1.0:
            stamp = time.strftime("%H:%M:%S")
            self.stream.write(f"{stamp} {fraction * 100:5.1f}%  {message}\n")
            self.stream.flush()
            if not summary:
                self._last = fraction


def load_data(paths, scheme, experiments=None, reviewed_only=False):
    """Labelled micrographs of every folder / project in ``paths``; with several sources, keys
    and groups are prefixed by the source's name so they stay unique. ``experiments`` and
    ``reviewed_only`` choose among a project's micrographs."""
    import dataclasses

    from temnet_app.commands._common import warnings_on_stderr
    from temnet_app.core.errors import AnnotationError
    from temnet_app.detector import read_folder, read_project

    items = []
    for path in paths:
        if path.is_file() and path.suffix.lower() == ".temnet":
            with warnings_on_stderr("temnet_app.detector.data"):
                found = read_project(path, scheme, experiments, reviewed_only)
        elif path.is_dir():
            with warnings_on_stderr("temnet_app.detector.data"):
                found = read_folder(path, scheme)
        else:
            raise AnnotationError(f"training data not found: {path} (give a dataset folder or "
                                  f"a .temnet project)")
        if len(paths) > 1:
            found = [dataclasses.replace(m, key=f"{path.name}/{m.key}",
                                         group=f"{path.name}/{m.group}") for m in found]
        items.extend(found)
    return items


FINE_TUNE_LEARNING_RATE = 0.001
LONG_FINE_TUNE_LEARNING_RATE = 0.01
# Measured on the shipped model (README, "What to expect in 30 minutes of CPU"): a 2-minute
# fine-tune (3 epochs of 20 steps) scored 97.4 / 94.9 mAP@0.5 (validation / simulated test) at
# 0.001 against 96.1 / 93.5 at 0.01; a 30-minute one (48 epochs of 36 steps) 92.6 / 93.5 at
# 0.001 against 95.2 / 94.4 at 0.01. A run is long from:
LONG_RUN_MINUTES = 20.0
LONG_RUN_EPOCHS = 30


def default_learning_rate(fine_tuning: bool, epochs: int, time_limit_minutes: float) -> float:
    """The learning rate when none is given (see the constants above)."""
    from temnet_app.detector import TrainSettings

    if not fine_tuning:
        return TrainSettings().learning_rate
    long_run = (time_limit_minutes >= LONG_RUN_MINUTES if time_limit_minutes
                else epochs >= LONG_RUN_EPOCHS)
    return LONG_FINE_TUNE_LEARNING_RATE if long_run else FINE_TUNE_LEARNING_RATE


def shipped_start(preset_name: str, backbone: str):
    """The shipped model's folder when it is a ``preset_name`` detector with ``backbone``
    (what a training run fine-tunes by default; printed), else None (random weights)."""
    import json

    from temnet_app.jobs import default_model_dir

    folder = default_model_dir()
    wanted = (preset_name, backbone.strip().lower())
    try:
        config = json.loads((folder / "model_card.json").read_text(encoding="utf-8"))["config"]
        kind = (config.get("preset"), config.get("backbone"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        print(f"the shipped model is missing or unreadable ({folder}): training from random "
              f"weights (--init MODEL starts from another model)", file=sys.stderr)
        return None
    if kind != wanted:
        print(f"the shipped model is a {kind[0]} {kind[1]} detector, not {wanted[0]} "
              f"{wanted[1]}: training from random weights", file=sys.stderr)
        return None
    print(f"starting from the shipped model {folder.name} (fine-tuning; --from-scratch starts "
          f"from random weights)", file=sys.stderr)
    return folder


def parse_classes(text):
    """The ``--classes`` text as a ClassScheme (None when not given); ModelError if unusable.
    (The text itself stays in ``args`` so the card's command repeats it as given.)"""
    from temnet_app.core.errors import ModelError

    if text is None:
        return None
    try:
        return classes_arg(text)
    except argparse.ArgumentTypeError as error:
        raise ModelError(f"--classes: {error}") from None


def at_net_input(config, net_input: int):
    """``config`` with network windows of ``net_input`` px, the anchors scaled alike (so they
    keep fitting virions, whose network size scales with ``net_input``)."""
    factor = net_input / config.net_input
    return config.replace(net_input=net_input,
                          anchor_scales=tuple(s * factor for s in config.anchor_scales))


def with_classes(config, data, given):
    """``config`` learning the classes :func:`training_classes` picks for ``data`` (printed
    when they are not the HIV classes, or differ from the fine-tuned model's)."""
    from temnet_app.detector.data.label_classes import training_classes

    scheme, source = training_classes(data, config.class_scheme, given)
    if scheme.same_classes(config.class_scheme) and scheme.colours == config.class_colours:
        return config
    where = {"--classes": "from --classes", "the project": "the project's classes",
             "the labels": "those the labels use; give names, order and colours with "
                           "--classes"}.get(source, source)
    print(f"classes: {scheme.describe()} ({where})", file=sys.stderr)
    return config.replace(class_names=scheme.names, class_colours=scheme.colours)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from temnet_app.core.errors import ModelError
    from temnet_app.detector import DetectorConfig, TrainSettings, format_duration, preset, train

    if args.epochs < 1:
        raise ModelError(f"--epochs must be at least 1, got {args.epochs}")
    given = parse_classes(args.classes)
    if args.init is not None and args.from_scratch:
        raise ModelError("--init and --from-scratch exclude each other")
    if args.init is None and not args.from_scratch and not args.resume:
        args.init = shipped_start(args.preset, args.backbone)
    if args.learning_rate is None:
        args.learning_rate = default_learning_rate(args.init is not None, args.epochs,
                                                   args.time_limit)
    init_weights = None
    if args.init is not None:
        import json

        from temnet_app.detector import WEIGHTS_FILE

        card_path = args.init / "model_card.json"
        if not card_path.is_file():
            raise ModelError(f"--init model card not found: {card_path}")
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ModelError(f"{card_path} is not valid JSON (line {error.lineno})") from None
        config = DetectorConfig.from_dict(card.get("config", {}))
        if config.backbone != args.backbone.strip().lower():
            raise ModelError(f"--init model {args.init} uses the {config.backbone} backbone, "
                             f"not {args.backbone}")
        init_weights = args.init / WEIGHTS_FILE
        if not init_weights.is_file():
            raise ModelError(f"--init weights not found: {init_weights}")
    else:
        config = preset(args.preset, backbone=args.backbone)
    init_config = config if init_weights is not None else None
    if args.resume:
        from temnet_app.detector import CHECKPOINT_DIR, load_state

        resumed = load_state(args.out / CHECKPOINT_DIR)
        config = DetectorConfig.from_dict(resumed.config)
        # the run goes on with its own settings: the card's command says so
        args.learning_rate = float(resumed.settings.get("learning_rate", args.learning_rate))
        args.balance_classes = bool(resumed.settings.get("balance_classes", True))
        if args.net_input and args.net_input != config.net_input:
            raise ModelError(f"the run in {args.out} trains at --net-input {config.net_input}, "
                             f"not {args.net_input}")
        if given is not None and not given.same_classes(config.class_scheme):
            raise ModelError(f"the run in {args.out} learns {config.class_scheme.describe()}, "
                             f"not {given.describe()}")
    else:
        config = with_classes(config, args.data, given)
        if args.rois_per_crop:
            config = dataclasses.replace(config, train_rois=args.rois_per_crop)
        if args.net_input:
            config = at_net_input(config, args.net_input)
    settings = TrainSettings(
        epochs=args.epochs, schedule=args.schedule, rpn_epochs=args.rpn_epochs,
        pretrain_epochs=args.pretrain_epochs,
        learning_rate=args.learning_rate, batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch, validation_fraction=args.validation_fraction,
        seed=args.seed, augment=not args.no_augment, map_every=args.val_map_every,
        validate_every=args.validate_every, warmup_steps=args.warmup_steps,
        appearance_augment=args.appearance_augment, scale_augment=args.scale_augment,
        balance_classes=args.balance_classes,
        time_limit_minutes=args.time_limit)
    notes = []
    if args.note_file is not None:
        if not args.note_file.is_file():
            raise ModelError(f"--note-file not found: {args.note_file}")
        text = args.note_file.read_text(encoding="utf-8")
        notes = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    micrographs = load_data(args.data, config.class_scheme, args.experiment, args.reviewed_only)
    print(f"training {config.preset} {config.backbone} on {len(micrographs)} labelled "
          f"micrograph(s) -> {args.out}", file=sys.stderr)
    began = time.monotonic()
    result = train(micrographs, config, args.out, settings, init_weights=init_weights,
                   init_config=init_config, resume=args.resume, name=args.name,
                   version=args.version, command=command_line(args), notes=notes,
                   progress=LineProgress())
    metrics = result.card.get("validation_metrics") or {}
    at = metrics.get("at_0.5") or {}
    print(f"wrote {result.out_dir} after {result.state.epoch} epoch(s) in "
          f"{format_duration(time.monotonic() - began)}; best validation loss "
          f"{result.state.best_val_loss:.4f} (epoch {result.state.best_epoch}); validation "
          f"mAP@0.5 {at.get('map')}, F1 at 0.5 {at.get('f1')}")
    return 0
