"""Small SQL helpers shared by the project modules: row lookups that raise a clear
:class:`ProjectError` for an unknown id, and checks of user-given names and magnifications.
Every function takes an open connection (inside the caller's transaction or read lock).
"""

from __future__ import annotations

import sqlite3
from typing import Optional

from temnet_app.core.errors import ProjectError
from temnet_app.core.project.records import DetectionRun, Experiment, Micrograph, utc_now
from temnet_app.core.scale import check_pixel_size
from temnet_app.core.units import check_magnification


def clean_name(name) -> str:
    """An experiment name with whitespace runs collapsed; empty -> ProjectError."""
    text = " ".join(str(name).split())
    if not text:
        raise ProjectError("an experiment name cannot be empty")
    return text


def check_mag(value) -> Optional[float]:
    """``None``, or a magnification within the supported range (else ProjectError)."""
    if value is None:
        return None
    try:
        return check_magnification(value)
    except (TypeError, ValueError) as exc:
        raise ProjectError(f"invalid magnification {value!r}: {exc}") from exc


def check_pixel(value) -> Optional[float]:
    """``None``, or a plausible pixel size in nm (else ProjectError)."""
    if value is None:
        return None
    try:
        return check_pixel_size(value)
    except ValueError as exc:
        raise ProjectError(f"invalid pixel size: {exc}") from exc


def name_taken(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM experiments WHERE name = ?", (name,)).fetchone() is not None


def unique_name(conn: sqlite3.Connection, base: str) -> str:
    """``base``, or ``base (2)``, ``base (3)``... whichever is free (case-insensitive)."""
    name, n = base, 2
    while name_taken(conn, name):
        name, n = f"{base} ({n})", n + 1
    return name


def insert_experiment(conn: sqlite3.Connection, name: str, notes: str,
                      magnification: Optional[float],
                      pixel_size_nm: Optional[float] = None) -> Experiment:
    cursor = conn.execute("INSERT INTO experiments (name, notes, magnification, created, "
                          "pixel_size_nm) VALUES (?, ?, ?, ?, ?)",
                          (name, notes, magnification, utc_now(), pixel_size_nm))
    return get_experiment(conn, cursor.lastrowid)


def get_experiment(conn: sqlite3.Connection, experiment_id: int) -> Experiment:
    row = conn.execute(f"SELECT {Experiment.COLUMNS} FROM experiments "
                       "WHERE id = ?", (int(experiment_id),)).fetchone()
    if row is None:
        raise ProjectError(f"no experiment with id {experiment_id} in this project")
    return Experiment.from_row(row)


def get_micrograph(conn: sqlite3.Connection, micrograph_id: int) -> Micrograph:
    row = conn.execute(f"SELECT {Micrograph.COLUMNS} FROM micrographs WHERE id = ?",
                       (int(micrograph_id),)).fetchone()
    if row is None:
        raise ProjectError(f"no micrograph with id {micrograph_id} in this project")
    return Micrograph.from_row(row)


def existing_micrograph(conn: sqlite3.Connection, micrograph_id: int) -> int:
    row = conn.execute("SELECT id FROM micrographs WHERE id = ?", (int(micrograph_id),)).fetchone()
    if row is None:
        raise ProjectError(f"no micrograph with id {micrograph_id} in this project")
    return int(row[0])


def get_run(conn: sqlite3.Connection, run_id: int) -> DetectionRun:
    row = conn.execute(f"SELECT {DetectionRun.COLUMNS} FROM runs WHERE id = ?",
                       (int(run_id),)).fetchone()
    if row is None:
        raise ProjectError(f"no detection run with id {run_id} in this project")
    return DetectionRun.from_row(row)
