"""The open connection of a project file: one lock, read and write transactions, change events.

Every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) in WAL mode with full fsync,
so a crash or kill mid-write leaves the file with whole transactions only. One store may be
used from several threads (a lock serialises its connection); two stores or two processes on
the same file wait for each other (busy timeout). Change callbacks run in the thread that
wrote, after the commit, never after a rollback.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterator, Optional

from temnet_app.core.errors import ProjectError
from temnet_app.core.project.records import ChangeEvent

_log = logging.getLogger(__name__)


class Events:
    """Change events collected during a transaction, sent after it commits."""

    def __init__(self) -> None:
        self.items: list[ChangeEvent] = []

    def add(self, kind: str, ids, run_id: Optional[int] = None) -> None:
        self.items.append(ChangeEvent(kind, tuple(int(i) for i in ids), run_id))


class Store:
    """The connection of the project file at ``path`` and what serialises its use."""

    def __init__(self, path: Path, conn: sqlite3.Connection, read_only: str = "") -> None:
        self.path = path
        self.read_only = read_only
        self.folder = path.parent
        self._conn: Optional[sqlite3.Connection] = conn
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[ChangeEvent], None]] = []

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def closed(self) -> bool:
        return self._conn is None

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
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
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; SQLite errors become :class:`ProjectError`."""
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise ProjectError(f"cannot read project {self.path.name}: {exc}") from exc

    @contextlib.contextmanager
    def writing(self, action: str) -> Iterator[tuple[sqlite3.Connection, Events]]:
        """One write transaction; events are sent after COMMIT, dropped on ROLLBACK.
        ``action`` completes "cannot ..." in error messages."""
        events = Events()
        if self.read_only:
            raise ProjectError(f"cannot {action}: project {self.path.name} is open read-only "
                               f"({self.read_only})")
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
