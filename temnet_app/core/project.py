"""A TEMNet project: ONE SQLite file (``*.temnet``) holding experiments, micrographs, manual
reference data and detection runs (see :mod:`project_schema` for the tables).

Every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) in WAL mode with full fsync,
so a crash or kill mid-write leaves the file with whole transactions only. One :class:`Project`
may be used from several threads (a lock serialises its connection); two Project objects or two
processes on the same file wait for each other (busy timeout). Change callbacks run in the
thread that wrote, after the commit, never after a rollback.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterator, Optional

from temnet_app.core import project_schema as schema
from temnet_app.core import project_sql as sql
from temnet_app.core.atomic import atomic_path
from temnet_app.core.errors import ProjectError
from temnet_app.core.project_data import ProjectDataMixin
from temnet_app.core.project_files import absolute
from temnet_app.core.project_micrographs import ProjectMicrographsMixin
from temnet_app.core.project_records import (AddFolderResult, ChangeEvent, DetectionRun,
                                             Experiment, Micrograph)

__all__ = ["SCHEMA_VERSION", "PROJECT_SUFFIX", "Project", "Experiment", "Micrograph",
           "DetectionRun", "ChangeEvent", "AddFolderResult"]

SCHEMA_VERSION = schema.SCHEMA_VERSION
PROJECT_SUFFIX = schema.PROJECT_SUFFIX
_log = logging.getLogger(__name__)
_UNCHANGED = object()


class _Events:
    """Change events collected during a transaction, sent after it commits."""

    def __init__(self) -> None:
        self.items: list[ChangeEvent] = []

    def add(self, kind: str, ids, run_id: Optional[int] = None) -> None:
        self.items.append(ChangeEvent(kind, tuple(int(i) for i in ids), run_id))


class Project(ProjectMicrographsMixin, ProjectDataMixin):
    """An open project file. Create with :meth:`create` or :meth:`open`; use as a context
    manager or call :meth:`close`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.folder = path.parent
        self._conn: Optional[sqlite3.Connection] = conn
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[ChangeEvent], None]] = []
        self._resolved: dict[int, tuple[Path, str]] = {}
        self._class_names = self._load_class_names()

    # ----------------------------------------------------------------- open / close
    @classmethod
    def create(cls, path) -> "Project":
        """Create a new, empty project file (it must end in ``.temnet`` and must not exist)."""
        path = absolute(Path(path))
        if path.suffix.lower() != PROJECT_SUFFIX:
            raise ProjectError(f"a project file name must end in {PROJECT_SUFFIX}: {path.name}")
        if path.exists():
            raise ProjectError(f"cannot create project: {path} already exists")
        try:
            with atomic_path(path) as tmp:
                try:
                    conn = schema.connect(tmp)
                    try:
                        schema.initialise(conn)
                        schema.use_wal(conn)
                    finally:
                        conn.close()
                finally:
                    for extra in ("-wal", "-shm", "-journal"):
                        Path(str(tmp) + extra).unlink(missing_ok=True)
        except (OSError, sqlite3.Error) as exc:
            raise ProjectError(f"cannot create project {path}: {exc}") from exc
        return cls.open(path)

    @classmethod
    def open(cls, path) -> "Project":
        """Open an existing project, upgrading an older project format (after a backup copy
        ``<name>.temnet.format<N>.bak``)."""
        path = absolute(Path(path))
        schema.check_header(path)
        try:
            conn = schema.connect(path)
        except sqlite3.Error as exc:
            raise ProjectError(f"cannot open project {path}: {exc}") from exc
        try:
            version = schema.check_identity(conn, path)
            schema.use_wal(conn)
            if version < schema.SCHEMA_VERSION:
                backup = path.with_name(f"{path.name}.format{version}.bak")
                if not backup.exists():
                    with atomic_path(backup) as tmp:
                        schema.backup_to(conn, tmp)
                schema.migrate(conn, path)
            return cls(path, conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise ProjectError(f"cannot open project {path}: {exc}") from exc
            raise

    def close(self) -> None:
        """Close the file (idempotent); later calls raise :class:`ProjectError`."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.path)!r}{', closed' if self.closed else ''})"

    # ----------------------------------------------------------------- transactions, events
    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after each committed change; returns the unsubscribe
        function. Callbacks run in the writing thread; an exception in one is logged."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ProjectError(f"project {self.path.name} is closed")
        return self._conn

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise ProjectError(f"cannot read project {self.path.name}: {exc}") from exc

    @contextlib.contextmanager
    def _writing(self, action: str) -> Iterator[tuple[sqlite3.Connection, _Events]]:
        """One write transaction; events are sent after COMMIT, dropped on ROLLBACK."""
        events = _Events()
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise ProjectError(f"cannot {action}: project {self.path.name} is busy or "
                                   f"read-only ({exc})") from exc
            try:
                yield conn, events
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        _log.exception("rollback failed in %s", self.path)
                if isinstance(exc, sqlite3.Error):
                    raise ProjectError(f"cannot {action} in {self.path.name}: {exc}") from exc
                raise
            subscribers = list(self._subscribers)
        for event in events.items:
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:  # the change is saved; a broken listener must not hide it
                    _log.exception("project change listener failed on %s", event)

    # ----------------------------------------------------------------- experiments
    def add_experiment(self, name: str, notes: str = "",
                       magnification: Optional[float] = None) -> Experiment:
        """A new experiment; its name must be unique (case-insensitive)."""
        name = sql.clean_name(name)
        magnification = sql.check_mag(magnification)
        with self._writing("add an experiment") as (conn, events):
            if sql.name_taken(conn, name):
                raise ProjectError(f"an experiment named {name!r} already exists")
            experiment = sql.insert_experiment(conn, name, str(notes), magnification)
            events.add("experiment", [experiment.id])
        return experiment

    def experiments(self) -> list[Experiment]:
        with self._reading() as conn:
            rows = conn.execute("SELECT id, name, notes, magnification, created FROM experiments"
                                " ORDER BY id").fetchall()
        return [Experiment.from_row(r) for r in rows]

    def experiment(self, experiment_id: int) -> Experiment:
        with self._reading() as conn:
            return sql.get_experiment(conn, experiment_id)

    def experiment_by_name(self, name: str) -> Optional[Experiment]:
        """The experiment called ``name`` (case-insensitive), or ``None``."""
        with self._reading() as conn:
            row = conn.execute("SELECT id, name, notes, magnification, created FROM experiments"
                               " WHERE name = ?", (" ".join(str(name).split()),)).fetchone()
        return Experiment.from_row(row) if row else None

    def update_experiment(self, experiment_id: int, *, name: Optional[str] = None,
                          notes: Optional[str] = None, magnification=_UNCHANGED) -> Experiment:
        """Change name, notes and/or magnification (``None`` clears the magnification)."""
        with self._writing("update the experiment") as (conn, events):
            current = sql.get_experiment(conn, experiment_id)
            new_name = current.name if name is None else sql.clean_name(name)
            if new_name.lower() != current.name.lower() and sql.name_taken(conn, new_name):
                raise ProjectError(f"an experiment named {new_name!r} already exists")
            new_mag = current.magnification if magnification is _UNCHANGED \
                else sql.check_mag(magnification)
            conn.execute("UPDATE experiments SET name = ?, notes = ?, magnification = ? "
                         "WHERE id = ?", (new_name, current.notes if notes is None else str(notes),
                                          new_mag, current.id))
            events.add("experiment", [current.id])
            return sql.get_experiment(conn, current.id)

    def remove_experiment(self, experiment_id: int) -> None:
        """Delete the experiment with its micrographs, manual data and detections."""
        with self._writing("remove the experiment") as (conn, events):
            current = sql.get_experiment(conn, experiment_id)
            gone = [r[0] for r in conn.execute(
                "SELECT id FROM micrographs WHERE experiment_id = ? ORDER BY id", (current.id,))]
            conn.execute("DELETE FROM experiments WHERE id = ?", (current.id,))
            if gone:
                events.add("micrograph", gone)
            events.add("experiment", [current.id])
