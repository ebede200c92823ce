"""Where detector models are found, and loading one: the shipped model beside the package (a
source checkout) or inside it (an installed or frozen app), or a folder the user names.

Loading imports TensorFlow (through :mod:`temnet_app.detector`), so it happens only when a
detection or evaluation actually starts; finding a folder does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from temnet_app.core.classes import ClassScheme
from temnet_app.core.errors import ModelError
from temnet_app.core.locations import model_folder

# The default: the synthetic model fine-tuned on pellet-like simulations, better on simulated
# and on real micrographs (README, "The shipped models").
DEFAULT_MODEL_NAME = "temnet-gn-pellet"
# the other models that ship with the app: the first default (trained on simulated
# micrographs only) and the one for batches (README, "Batches")
SHIPPED_MODEL_NAMES = (DEFAULT_MODEL_NAME, "temnet-gn-synthetic", "temnet-gn-fast")
MODEL_HINT = ("train one with `temnet train` (see the README) or pass --model with a folder "
              "holding model_card.json and weights.weights.h5")


def default_model_dir() -> Path:
    """Folder of the default shipped model ``models/temnet-gn-pellet``: beside the package in a
    source checkout, in the bundle when frozen (see :mod:`temnet_app.core.locations`); when it
    is missing, the checkout location (callers check with :func:`resolve_model_dir`)."""
    return model_folder(DEFAULT_MODEL_NAME)


def resolve_model_dir(model: Optional[Any] = None) -> Path:
    """``model`` (a folder, or the name of a model that ships with the app, e.g.
    ``temnet-gn-pellet``) or the default model folder; :class:`ModelError` if it is missing."""
    if model is None:
        folder = default_model_dir()
        if not folder.is_dir():
            raise ModelError(f"no detector model found at {folder}: {MODEL_HINT}")
        return folder
    folder = Path(model)
    if not folder.is_dir() and str(model) in SHIPPED_MODEL_NAMES:
        folder = model_folder(str(model))
    if not folder.is_dir():
        raise ModelError(f"model folder {folder} does not exist: {MODEL_HINT}")
    return folder


def load_detector(model: Optional[Any] = None, mode: Optional[str] = None,
                  flips: Optional[bool] = None):
    """The detector in folder ``model`` (or the shipped model), in tiling ``mode`` ("tiled" or
    "whole") and averaging over mirrored copies or not (``flips``) when given, else as its card
    says; :class:`ModelError` when the folder is missing or unusable."""
    from temnet_app.detector import Detector

    detector = Detector.load(resolve_model_dir(model))
    if mode:
        detector.config = detector.config.replace(tiling_mode=mode)
    if flips is not None:
        detector.config = detector.config.replace(flip_average=bool(flips))
    return detector


@dataclass(frozen=True)
class ModelSummary:
    """What a user needs to see of a model before running it (read from its card only; no
    TensorFlow). ``metrics`` holds lines such as "validation mAP@0.5: 95.0%"."""

    folder: Path
    name: str
    version: str
    classes: tuple[str, ...]
    date: str
    training: str
    metrics: tuple[str, ...]
    notes: tuple[str, ...]
    command: str = ""
    class_colours: tuple[str, ...] = ()
    flip_average: bool = False      # its detection averages over mirrored copies

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def scheme(self) -> ClassScheme:
        """The model's classes with their colours (what a project running it should use)."""
        return ClassScheme(self.classes, self.class_colours)


def describe_model(model: Optional[Any] = None) -> ModelSummary:
    """The card of the model in folder ``model`` (or the shipped model) as a
    :class:`ModelSummary`; :class:`ModelError` when the folder or its card is unusable."""
    from temnet_app.detector import WEIGHTS_FILE, read_card

    folder = resolve_model_dir(model)
    card = read_card(folder)
    if not (folder / WEIGHTS_FILE).is_file():
        raise ModelError(f"weights file not found: {folder / WEIGHTS_FILE}")
    metrics = []
    validation = card.get("validation_metrics") or {}
    at_half = validation.get("at_0.5") if isinstance(validation, dict) else None
    if isinstance(at_half, dict):
        n = validation.get("micrographs")
        where = f" on {n} validation micrographs" if n else ""
        metrics.append(f"mAP@0.5 {_pct(at_half.get('map'))}{where}")
        metrics.append(f"at confidence 0.5: precision {_pct(at_half.get('precision'))}, "
                       f"recall {_pct(at_half.get('recall'))}, F1 {_pct(at_half.get('f1'))}")
        per_class = at_half.get("per_class") or {}
        if per_class:
            metrics.append("AP per class: " + ", ".join(
                f"{name} {_pct(values.get('ap'))}" for name, values in per_class.items()
                if isinstance(values, dict)))
    notes = card.get("notes") or []
    return ModelSummary(folder=folder, name=str(card["name"]), version=str(card["version"]),
                        classes=tuple(str(c) for c in card.get("classes", [])),
                        date=str(card.get("date", "")), training=str(card.get("training", "")),
                        metrics=tuple(metrics),
                        notes=tuple(str(n) for n in notes) if isinstance(notes, list) else (),
                        command=str(card.get("command", "")),
                        class_colours=_colours(card),
                        flip_average=(card.get("config") or {}).get("flip_average") is True)


def _colours(card: dict) -> tuple[str, ...]:
    """The card's class colours when usable (older cards have none: default colours)."""
    colours = card.get("class_colours") or (card.get("config") or {}).get("class_colours") or ()
    classes = card.get("classes") or []
    try:
        return ClassScheme(tuple(classes), tuple(colours)).colours if classes else ()
    except (TypeError, ValueError):
        return ()


def _pct(value) -> str:
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return "-"
