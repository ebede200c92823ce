"""The SQLite schema of a TEMNet project file (``*.temnet``), its version and its migrations.

A project file is recognised by three marks: the SQLite header, ``PRAGMA application_id`` equal
to :data:`APPLICATION_ID`, and a ``meta`` row ``application = TEMNet Studio``. Its schema version
is ``PRAGMA user_version``. :data:`MIGRATIONS` maps a version ``n`` to the function that turns a
version-``n`` file into version ``n + 1``; :func:`migrate` applies the missing steps in ONE
transaction, so a failed migration leaves the file exactly as it was.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Callable

from temnet_app.core.boxes import DEFAULT_CLASS_NAMES
from temnet_app.core.errors import ProjectError

SCHEMA_VERSION = 4
PROJECT_SUFFIX = ".temnet"
APPLICATION_ID = 0x54454D4E  # "TEMN"
APPLICATION_NAME = "TEMNet Studio"
BUSY_TIMEOUT_S = 10.0
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE experiments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
    notes TEXT NOT NULL DEFAULT '',
    magnification REAL,
    created TEXT NOT NULL
);

CREATE TABLE micrographs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    abs_path TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    checksum TEXT NOT NULL,
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    file_magnification REAL,
    magnification_override REAL,
    pixel_size_nm REAL,
    added TEXT NOT NULL,
    UNIQUE (experiment_id, path),
    UNIQUE (experiment_id, checksum)
);

CREATE TABLE manual_annotations (
    micrograph_id INTEGER PRIMARY KEY REFERENCES micrographs(id) ON DELETE CASCADE,
    updated TEXT NOT NULL
);

CREATE TABLE manual_boxes (
    id INTEGER PRIMARY KEY,
    micrograph_id INTEGER NOT NULL
        REFERENCES manual_annotations(micrograph_id) ON DELETE CASCADE,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    class_id INTEGER NOT NULL CHECK (class_id >= 1)
);
CREATE INDEX manual_boxes_micrograph ON manual_boxes(micrograph_id);

CREATE TABLE manual_counts (
    micrograph_id INTEGER NOT NULL REFERENCES micrographs(id) ON DELETE CASCADE,
    class_name TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (micrograph_id, class_name)
) WITHOUT ROWID;

CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id TEXT NOT NULL,
    settings TEXT NOT NULL,
    score_floor REAL NOT NULL CHECK (score_floor >= 0 AND score_floor <= 1),
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'cancelled', 'failed')),
    created TEXT NOT NULL,
    finished TEXT
);

CREATE TABLE run_micrographs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    micrograph_id INTEGER NOT NULL REFERENCES micrographs(id) ON DELETE CASCADE,
    stored TEXT NOT NULL,
    PRIMARY KEY (run_id, micrograph_id)
) WITHOUT ROWID;
CREATE INDEX run_micrographs_micrograph ON run_micrographs(micrograph_id);

CREATE TABLE detections (
    run_id INTEGER NOT NULL,
    micrograph_id INTEGER NOT NULL,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    class_id INTEGER NOT NULL CHECK (class_id >= 1),
    score REAL NOT NULL CHECK (score >= 0 AND score <= 1),
    FOREIGN KEY (run_id, micrograph_id)
        REFERENCES run_micrographs(run_id, micrograph_id) ON DELETE CASCADE
);
-- One index serves every detection query: a micrograph's rows in a run, filtered and sorted by
-- score. (A separate index on score alone doubled the insert time and no query used it.)
CREATE INDEX detections_run_micrograph ON detections(run_id, micrograph_id, score);
"""


def _create_v1(conn: sqlite3.Connection) -> None:
    """Version 0 (an empty file) -> 1: the first schema, with the default class names."""
    for statement in _split_statements(_SCHEMA_V1):
        conn.execute(statement)
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
        ("application", APPLICATION_NAME),
        ("class_names", json.dumps(list(DEFAULT_CLASS_NAMES))),
    ])


_REVIEWS_V2 = """
CREATE TABLE reviews (
    micrograph_id INTEGER PRIMARY KEY REFERENCES micrographs(id) ON DELETE CASCADE,
    reviewed TEXT NOT NULL
);
"""


def _add_reviews_v2(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2: the per-micrograph "reviewed" mark (manual boxes checked by a person)."""
    for statement in _split_statements(_REVIEWS_V2):
        conn.execute(statement)


_RUN_OWNER_V3 = """
ALTER TABLE runs ADD COLUMN owner_host TEXT;
ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE runs ADD COLUMN owner_token TEXT;
ALTER TABLE runs ADD COLUMN heartbeat TEXT;
"""


def _add_run_owner_v3(conn: sqlite3.Connection) -> None:
    """Version 2 -> 3: the process (host, pid, start token) working on a running run and when
    it last stored a micrograph, so a killed run is recognised as interrupted."""
    for statement in _split_statements(_RUN_OWNER_V3):
        conn.execute(statement)


_PIXEL_SIZE_V4 = """
ALTER TABLE micrographs ADD COLUMN pixel_size_override REAL;
ALTER TABLE experiments ADD COLUMN pixel_size_nm REAL;
ALTER TABLE run_micrographs ADD COLUMN pixel_size_nm REAL;
ALTER TABLE run_micrographs ADD COLUMN scale TEXT;
"""
# Formats 1-3 stored in micrographs.pixel_size_nm either the file's calibration or a value
# derived from its magnification at the reference calibration (0.561 nm/px at 30,000x).
_REFERENCE_NM_TIMES_MAG = 0.561 * 30000.0


def _pixel_size_is_the_scale_v4(conn: sqlite3.Connection) -> None:
    """Version 3 -> 4: the pixel size decides the scale. Adds a per-micrograph pixel size
    override, an experiment pixel size, and the scale each run used per micrograph (NULL for
    runs stored before). ``micrographs`` now hold only what the file states: where the old
    pixel size and magnification agree at the reference calibration one was derived from the
    other. Magnifications are round numbers and derived ones rarely are, so a round
    magnification keeps and its pixel size is cleared (it then goes through the project's
    camera calibration), otherwise the magnification is the derived one and is cleared."""
    for statement in _split_statements(_PIXEL_SIZE_V4):
        conn.execute(statement)
    consistent = ("file_magnification > 0 AND pixel_size_nm > 0 AND "
                  "abs(pixel_size_nm * file_magnification - ?) <= 1e-6 * ?")
    round_mag = "abs(file_magnification - 10 * round(file_magnification / 10)) < 1e-6"
    product = (_REFERENCE_NM_TIMES_MAG, _REFERENCE_NM_TIMES_MAG)
    conn.execute(f"UPDATE micrographs SET pixel_size_nm = NULL WHERE {consistent} AND "
                 f"{round_mag}", product)
    conn.execute(f"UPDATE micrographs SET file_magnification = NULL WHERE {consistent} AND "
                 f"NOT {round_mag}", product)


# Version n -> the function upgrading a version-n file to n + 1 inside an open transaction.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    0: _create_v1, 1: _add_reviews_v2, 2: _add_run_owner_v3, 3: _pixel_size_is_the_scale_v4}


def _split_statements(script: str) -> list[str]:
    """Split a DDL script into statements (``executescript`` would commit the transaction)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]}")
    return statements


def connect(path: Path, read_only: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (transactions are explicit), foreign keys ON, a busy
    timeout, and ``check_same_thread=False`` (the caller serialises access with a lock).

    ``read_only`` opens it for reading only; ``immutable`` also tells SQLite that nobody can
    change it (a read-only folder, where the ``-shm`` file of the write-ahead log cannot be
    created)."""
    if read_only:
        flags = "mode=ro" + ("&immutable=1" if immutable else "")
        target = f"{Path(path).absolute().as_uri()}?{flags}"
        conn = sqlite3.connect(target, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def use_wal(conn: sqlite3.Connection) -> None:
    """Switch to the WAL journal (persistent in the file) with full fsync on commit."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise ProjectError(f"cannot use a write-ahead log for the project (journal mode {mode})")
    conn.execute("PRAGMA synchronous = FULL")


def initialise(conn: sqlite3.Connection) -> None:
    """Write the current schema into an empty database (used by ``Project.create``)."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrate(conn, Path("(new project)"), allow_empty=True)


def check_header(path: Path) -> None:
    """Raise :class:`ProjectError` unless ``path`` is an existing file with an SQLite header.

    Checked before SQLite touches the file: SQLite would treat an empty file as a new database.
    """
    if not path.exists():
        raise ProjectError(f"project file not found: {path}")
    if not path.is_file():
        raise ProjectError(f"not a project file (it is a folder): {path}")
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise ProjectError(f"cannot read project file {path}: {exc.strerror or exc}") from exc
    if head != _SQLITE_MAGIC:
        raise ProjectError(f"{path.name} is not a TEMNet project (not an SQLite database file)")


def check_identity(conn: sqlite3.Connection, path: Path) -> int:
    """Verify the file is a TEMNet project and return its schema version (user_version)."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        has_meta = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()[0]
        marker = conn.execute(
            "SELECT value FROM meta WHERE key = 'application'").fetchone() if has_meta else None
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{path.name} is not a TEMNet project (unreadable database: {exc})") \
            from exc
    if app_id != APPLICATION_ID or marker is None or marker[0] != APPLICATION_NAME:
        raise ProjectError(f"{path.name} is an SQLite database but not a TEMNet project")
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"{path.name} was made by a newer TEMNet Studio (project format {version}; this "
            f"version reads up to {SCHEMA_VERSION}); please update TEMNet Studio")
    return int(version)


def migrate(conn: sqlite3.Connection, path: Path, *, allow_empty: bool = False) -> int:
    """Bring the file up to :data:`SCHEMA_VERSION` in one transaction; return the old version.

    Reads the module-level :data:`SCHEMA_VERSION` and :data:`MIGRATIONS` at call time.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        old = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if old == 0 and not allow_empty:
            raise ProjectError(f"{path.name} is not a TEMNet project (no schema)")
        for version in range(old, SCHEMA_VERSION):
            step = MIGRATIONS.get(version)
            if step is None:
                raise ProjectError(f"cannot upgrade {path.name}: no migration from project "
                                   f"format {version} to {version + 1}")
            step(conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except ProjectError:
        conn.execute("ROLLBACK")
        raise
    except Exception as exc:
        conn.execute("ROLLBACK")
        raise ProjectError(f"cannot upgrade {path.name} to project format {SCHEMA_VERSION}: "
                           f"{exc}") from exc
    return old


def backup_to(conn: sqlite3.Connection, target: Path) -> None:
    """Copy the whole database (a consistent snapshot) into the file ``target``."""
    dest = sqlite3.connect(str(target))
    try:
        conn.backup(dest)
    finally:
        dest.close()
