"""Where detector models are found, and loading one: the shipped model beside the package (a
source checkout) or inside it (an installed or frozen app), or a folder the user names.

Loading imports TensorFlow (through :mod:`temnet_app.detector`), so it happens only when a
detection or evaluation actually starts; finding a folder does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from temnet_app.core.errors import ModelError

DEFAULT_MODEL_NAME = "temnet-gn-synthetic"
MODEL_HINT = ("train one with `temnet train` (see the README) or pass --model with a folder "
              "holding model_card.json and weights.weights.h5")


def _package_root() -> Path:
    return Path(__file__).resolve().parents[1]


def default_model_dir() -> Path:
    """Folder of the shipped model: ``models/temnet-gn-synthetic``.

    Looked up beside the package (a source checkout: ``<repo>/models``) and inside it (an
    installed or frozen app: ``temnet_app/models``); the first that exists is returned, else
    the source-checkout location (callers check with :func:`resolve_model_dir`).
    """
    candidates = [_package_root().parent / "models" / DEFAULT_MODEL_NAME,
                  _package_root() / "models" / DEFAULT_MODEL_NAME]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def resolve_model_dir(model: Optional[Any] = None) -> Path:
    """``model`` (a folder) or the default model folder; :class:`ModelError` if it is missing."""
    if model is None:
        folder = default_model_dir()
        if not folder.is_dir():
            raise ModelError(f"no detector model found at {folder}: {MODEL_HINT}")
        return folder
    folder = Path(model)
    if not folder.is_dir():
        raise ModelError(f"model folder {folder} does not exist: {MODEL_HINT}")
    return folder


def load_detector(model: Optional[Any] = None, mode: Optional[str] = None):
    """The detector in folder ``model`` (or the shipped model), in tiling ``mode`` ("tiled" or
    "whole") when given; :class:`ModelError` when the folder is missing or unusable."""
    from temnet_app.detector import Detector

    detector = Detector.load(resolve_model_dir(model))
    if mode:
        detector.config = detector.config.replace(tiling_mode=mode)
    return detector
