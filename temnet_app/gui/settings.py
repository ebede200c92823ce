"""What the window remembers between sessions (QSettings): window geometry and dock state,
recent projects, the last project, the chosen model, the last confidence threshold."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8
DEFAULT_THRESHOLD = 0.5


class AppSettings:
    """Typed access to one :class:`QSettings` store (the app's own, or a file in tests)."""

    def __init__(self, store: Optional[QSettings] = None) -> None:
        self.store = store if store is not None else QSettings()

    # ----------------------------------------------------------------- projects
    def recent_projects(self) -> list[Path]:
        value = self.store.value("projects/recent", [])
        if isinstance(value, str):
            value = [value]
        return [Path(v) for v in (value or []) if v]

    def add_recent(self, path: Path) -> None:
        path = Path(path).resolve()
        items = [p for p in self.recent_projects() if p != path]
        self.store.setValue("projects/recent", [str(p) for p in [path, *items][:MAX_RECENT]])
        self.store.setValue("projects/last", str(path))

    def forget_recent(self, path: Path) -> None:
        path = Path(path)
        self.store.setValue("projects/recent",
                            [str(p) for p in self.recent_projects() if p != path])

    def last_project(self) -> Optional[Path]:
        value = self.store.value("projects/last", "")
        return Path(value) if value else None

    def clear_last_project(self) -> None:
        self.store.remove("projects/last")

    # ----------------------------------------------------------------- model, threshold
    def model_dir(self) -> Optional[Path]:
        """The model folder chosen by the user; None means the shipped model."""
        value = self.store.value("model/folder", "")
        return Path(value) if value else None

    def set_model_dir(self, folder: Optional[Path]) -> None:
        self.store.setValue("model/folder", str(folder) if folder else "")
        self.store.setValue("model/confirmed", True)

    def model_confirmed(self) -> bool:
        """True once the user has seen the model dialog and accepted a model."""
        return str(self.store.value("model/confirmed", False)).lower() in ("true", "1")

    def threshold(self) -> float:
        try:
            value = float(self.store.value("view/threshold", DEFAULT_THRESHOLD))
        except (TypeError, ValueError):
            return DEFAULT_THRESHOLD
        return min(1.0, max(0.0, value))

    def set_threshold(self, value: float) -> None:
        self.store.setValue("view/threshold", float(value))

    # ----------------------------------------------------------------- window
    def window_state(self) -> tuple[Optional[QByteArray], Optional[QByteArray]]:
        geometry = self.store.value("window/geometry")
        state = self.store.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    def sync(self) -> None:
        self.store.sync()
