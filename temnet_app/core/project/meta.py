"""The ``meta`` table of a project: its class set (names and colours), the camera calibration,
and small named settings (the confidence threshold the window last used, for example)."""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

from temnet_app.core.boxes import Box, ClassScheme
from temnet_app.core.errors import ProjectError
from temnet_app.core.project.store import Store
from temnet_app.core.scale import CameraCalibration

# meta keys that belong to the file format, not to settings
_NAMES_KEY, _COLOURS_KEY = "class_names", "class_colours"
_RESERVED = {"application", "schema_version", _NAMES_KEY, _COLOURS_KEY, "created",
             "camera_calibration"}
_CAMERA_KEY = "camera_calibration"
_SETTING_PREFIX = "setting."


class Meta:
    """The class set (cached; read once when the project opens) and settings."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.scheme: ClassScheme = self._load_scheme()

    def _load_scheme(self) -> ClassScheme:
        with self._store.reading() as conn:
            rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)",
                                     (_NAMES_KEY, _COLOURS_KEY)).fetchall())
        try:
            names = tuple(json.loads(rows[_NAMES_KEY]))
            colours = tuple(json.loads(rows[_COLOURS_KEY])) if _COLOURS_KEY in rows else ()
            if len(colours) != len(names):
                colours = ()  # names changed by an older version: default colours
            return ClassScheme(names, colours)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(f"{self._store.path.name}: damaged class list in the "
                               f"project") from exc

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.scheme.names

    def set_classes(self, classes) -> None:
        """Rename, recolour or add classes (ids stay; a class in use cannot go)."""
        try:
            scheme = classes if isinstance(classes, ClassScheme) else ClassScheme(tuple(classes))
        except ValueError as exc:
            raise ProjectError(f"invalid class names: {exc}") from exc
        before = self.scheme
        try:
            with self._store.writing("change the classes") as (conn, events):
                _check_classes_fit(conn, scheme)
                for key, value in ((_NAMES_KEY, scheme.names), (_COLOURS_KEY, scheme.colours)):
                    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                 (key, json.dumps(list(value))))
                events.add("classes", [])
                # in place before the commit announces the change (listeners in other
                # threads read it then); put back below if the commit fails
                self.scheme = scheme
        except BaseException:
            self.scheme = before
            raise

    def classes_in_use(self) -> bool:
        """Whether any manual box, detection or manual count is stored (under these classes)."""
        with self._store.reading() as conn:
            return any(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
                       for table in ("manual_boxes", "detections", "manual_counts"))

    def check_class_ids(self, boxes: Sequence[Box], what: str) -> None:
        """:class:`ProjectError` unless every item is a :class:`Box` of a known class id."""
        top = len(self.class_names)
        for box in boxes:
            if not isinstance(box, Box):
                raise ProjectError(f"{what}: expected boxes, got {type(box).__name__}")
            if box.class_id > top:
                raise ProjectError(f"{what}: class id {box.class_id} is not one of the project's "
                                   f"classes (1..{top}: {', '.join(self.class_names)})")

    # ----------------------------------------------------------------- camera calibration
    def camera_calibration(self) -> Optional[CameraCalibration]:
        """The camera's nm/px at a magnification, set once per project (None: the reference
        calibration, 0.561 nm/px at 30,000x). A damaged value is a ProjectError."""
        with self._store.reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (_CAMERA_KEY,)).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(row[0])
            return CameraCalibration(float(data["magnification"]), float(data["pixel_size_nm"]))
        except (TypeError, ValueError, KeyError) as exc:
            raise ProjectError(f"{self._store.path.name}: damaged camera calibration in the "
                               f"project ({row[0][:60]!r})") from exc

    def set_camera_calibration(self, calibration: Optional[CameraCalibration]) -> None:
        """Store the camera calibration (``None`` goes back to the reference calibration)."""
        with self._store.writing("set the camera calibration") as (conn, events):
            if calibration is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (_CAMERA_KEY,))
            else:
                text = json.dumps({"magnification": calibration.magnification,
                                   "pixel_size_nm": calibration.pixel_size_nm})
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                             "DO UPDATE SET value = excluded.value", (_CAMERA_KEY, text))
            events.add("micrograph", [r[0] for r in conn.execute(
                "SELECT id FROM micrographs ORDER BY id")])

    # ----------------------------------------------------------------- settings
    def setting(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under setting ``key``, or ``default``."""
        with self._store.reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?",
                               (_setting_key(key),)).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except ValueError:
            return default

    def set_setting(self, key: str, value: Optional[Any]) -> None:
        """Store a JSON-serialisable ``value`` under setting ``key`` (``None`` removes it)."""
        name = _setting_key(key)
        if value is None:
            text = None
        else:
            try:
                text = json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ProjectError(f"setting {key!r} cannot be saved: {exc}") from exc
        with self._store.writing("save a setting") as (conn, events):
            if text is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (name,))
            else:
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                             "DO UPDATE SET value = excluded.value", (name, text))
            events.add("settings", [])


def _setting_key(key: str) -> str:
    key = str(key).strip()
    if not key or key in _RESERVED:
        raise ProjectError(f"invalid setting name {key!r}")
    return _SETTING_PREFIX + key


def _check_classes_fit(conn, scheme: ClassScheme) -> None:
    """ProjectError when stored boxes or counts would lose their class under ``scheme``."""
    top = max(conn.execute("SELECT max(class_id) FROM manual_boxes").fetchone()[0] or 0,
              conn.execute("SELECT max(class_id) FROM detections").fetchone()[0] or 0)
    if top > len(scheme.names):
        raise ProjectError(f"stored boxes use class id {top}; {len(scheme.names)} class "
                           f"names are not enough")
    lower = {n.lower() for n in scheme.names}
    for (used,) in conn.execute("SELECT DISTINCT class_name FROM manual_counts"):
        if used.lower() not in lower:
            raise ProjectError(f"manual counts use class {used!r}, missing from "
                               f"{', '.join(scheme.names)}")
