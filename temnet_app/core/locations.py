"""Where the program's own files are: the shipped models and the resources (icon), both in a
source checkout (beside the package) and in a frozen bundle (PyInstaller unpacks everything
under ``sys._MEIPASS``, with the same ``models/`` and ``resources/`` folders)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

MODELS_DIR = "models"
RESOURCES_DIR = "resources"


def frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def app_roots() -> list[Path]:
    """Folders that may hold ``models/`` and ``resources/``, most specific first."""
    package = Path(__file__).resolve().parents[1]          # temnet_app/
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle))
    roots += [package.parent, package]                    # checkout, then inside the package
    return roots


def find(kind: str, name: str) -> Optional[Path]:
    """``<root>/<kind>/<name>`` in the first root that has it, else None."""
    for root in app_roots():
        candidate = root / kind / name
        if candidate.exists():
            return candidate
    return None


def resource(name: str) -> Optional[Path]:
    """A file of ``resources/`` (e.g. "temnet-studio.svg"), or None when it is missing."""
    return find(RESOURCES_DIR, name)


def model_folder(name: str) -> Path:
    """The shipped model ``name``; where it would be in a checkout when it is missing."""
    return find(MODELS_DIR, name) or app_roots()[-2] / MODELS_DIR / name
