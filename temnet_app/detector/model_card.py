"""A model folder's card: ``model_card.json`` (name, version, detector config, classes, colours,
training notes, date, app version) beside ``weights.weights.h5``; made and read here."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Optional

from temnet_app import __version__
from temnet_app.core.errors import ModelError
from temnet_app.detector.model import DetectorConfig

CARD_FILE = "model_card.json"
WEIGHTS_FILE = "weights.weights.h5"


def make_card(config: DetectorConfig, name: str, version: str, training: str = "",
              date: Optional[str] = None) -> dict:
    """A model card dict for ``config`` (JSON-able)."""
    return {"name": str(name), "version": str(version), "config": config.to_dict(),
            "classes": list(config.class_names),
            "class_colours": list(config.class_colours), "training": str(training),
            "date": date or _dt.date.today().isoformat(), "app_version": __version__}


def read_card(folder: Path) -> dict:
    """The model card of ``folder`` as a dict; :class:`ModelError` when missing or invalid."""
    path = folder / CARD_FILE
    if not path.is_file():
        raise ModelError(f"model card not found: {path}")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(f"cannot read model card {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise ModelError(f"model card {path} is not valid JSON (line {error.lineno}: "
                         f"{error.msg})") from None
    if not isinstance(card, dict):
        raise ModelError(f"model card {path} must hold a JSON object")
    missing = [k for k in ("name", "version", "config") if k not in card]
    if missing:
        raise ModelError(f"model card {path} lacks {', '.join(missing)}")
    return card
