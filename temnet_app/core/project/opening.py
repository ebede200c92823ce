"""Creating and opening project files: the new empty file written atomically, the format check
and upgrade (after a backup copy), and read-only mode for files or folders that cannot be
written."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from temnet_app.core.atomic import atomic_path
from temnet_app.core.errors import ProjectError
from temnet_app.core.project import schema
from temnet_app.core.project.files import absolute


def _unwritable_reason(path: Path) -> str:
    """Why ``path`` cannot be changed in place (SQLite needs to write the file and create its
    ``-wal`` / ``-shm`` files beside it), or ""."""
    if not os.access(path, os.W_OK):
        return f"the file {path.name} is read-only"
    if not os.access(path.parent, os.W_OK):
        return f"its folder {path.parent} is read-only"
    return ""


def create_file(path) -> Path:
    """Write a new, empty project file at ``path`` (it must end in ``.temnet`` and must not
    exist); its absolute path."""
    path = absolute(Path(path))
    if path.suffix.lower() != schema.PROJECT_SUFFIX:
        raise ProjectError(f"a project file name must end in {schema.PROJECT_SUFFIX}: "
                           f"{path.name}")
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
    return path


def open_connection(path: Path, read_only: bool = False) -> tuple[sqlite3.Connection, str]:
    """``(connection, read-only reason or "")`` for the project file at absolute ``path``,
    upgraded to the current format when it is older and writable (see ``Project.open``)."""
    schema.check_header(path)
    reason = "opened read-only" if read_only else _unwritable_reason(path)
    try:
        conn = schema.connect(path, read_only=bool(reason),
                              immutable=bool(reason) and not os.access(path.parent, os.W_OK))
    except sqlite3.Error as exc:
        raise ProjectError(f"cannot open project {path}: {exc}") from exc
    try:
        version = schema.check_identity(conn, path)
        if reason:
            if version < schema.SCHEMA_VERSION:
                raise ProjectError(
                    f"{path.name} is in an older project format and cannot be upgraded "
                    f"because {reason}; copy the project folder somewhere writable")
            return conn, reason
        schema.use_wal(conn)
        if version < schema.SCHEMA_VERSION:
            backup = path.with_name(f"{path.name}.format{version}.bak")
            if not backup.exists():
                with atomic_path(backup) as tmp:
                    schema.backup_to(conn, tmp)
            schema.migrate(conn, path)
        return conn, ""
    except BaseException as exc:
        conn.close()
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise ProjectError(f"cannot open project {path}: {exc}") from exc
        raise
