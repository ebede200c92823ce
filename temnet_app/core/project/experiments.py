"""Experiments of a project: a named group of micrographs (a sample or condition) with notes and
an optional magnification or pixel size for its micrographs."""

from __future__ import annotations

from typing import Optional

from temnet_app.core.errors import ProjectError
from temnet_app.core.project import sql
from temnet_app.core.project.records import Experiment
from temnet_app.core.project.store import Store

UNCHANGED = object()


class Experiments:
    """The experiments table of one project file."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add_experiment(self, name: str, notes: str = "", magnification: Optional[float] = None,
                       pixel_size_nm: Optional[float] = None) -> Experiment:
        """A new experiment; its name must be unique (case-insensitive)."""
        name = sql.clean_name(name)
        magnification = sql.check_mag(magnification)
        pixel_size_nm = sql.check_pixel(pixel_size_nm)
        with self._store.writing("add an experiment") as (conn, events):
            if sql.name_taken(conn, name):
                raise ProjectError(f"an experiment named {name!r} already exists")
            experiment = sql.insert_experiment(conn, name, str(notes), magnification,
                                               pixel_size_nm)
            events.add("experiment", [experiment.id])
        return experiment

    def experiments(self) -> list[Experiment]:
        with self._store.reading() as conn:
            rows = conn.execute(f"SELECT {Experiment.COLUMNS} FROM experiments"
                                " ORDER BY id").fetchall()
        return [Experiment.from_row(r) for r in rows]

    def experiment(self, experiment_id: int) -> Experiment:
        with self._store.reading() as conn:
            return sql.get_experiment(conn, experiment_id)

    def experiment_by_name(self, name: str) -> Optional[Experiment]:
        """The experiment called ``name`` (case-insensitive), or ``None``."""
        with self._store.reading() as conn:
            row = conn.execute(f"SELECT {Experiment.COLUMNS} FROM experiments"
                               " WHERE name = ?", (" ".join(str(name).split()),)).fetchone()
        return Experiment.from_row(row) if row else None

    def update_experiment(self, experiment_id: int, *, name: Optional[str] = None,
                          notes: Optional[str] = None, magnification=UNCHANGED,
                          pixel_size_nm=UNCHANGED) -> Experiment:
        """Change name, notes, magnification and/or pixel size (``None`` clears a value)."""
        with self._store.writing("update the experiment") as (conn, events):
            current = sql.get_experiment(conn, experiment_id)
            new_name = current.name if name is None else sql.clean_name(name)
            if new_name.lower() != current.name.lower() and sql.name_taken(conn, new_name):
                raise ProjectError(f"an experiment named {new_name!r} already exists")
            new_mag = current.magnification if magnification is UNCHANGED \
                else sql.check_mag(magnification)
            new_size = current.pixel_size_nm if pixel_size_nm is UNCHANGED \
                else sql.check_pixel(pixel_size_nm)
            conn.execute("UPDATE experiments SET name = ?, notes = ?, magnification = ?, "
                         "pixel_size_nm = ? WHERE id = ?",
                         (new_name, current.notes if notes is None else str(notes), new_mag,
                          new_size, current.id))
            events.add("experiment", [current.id])
            return sql.get_experiment(conn, current.id)

    def remove_experiment(self, experiment_id: int) -> None:
        """Delete the experiment with its micrographs, manual data and detections."""
        with self._store.writing("remove the experiment") as (conn, events):
            current = sql.get_experiment(conn, experiment_id)
            gone = [r[0] for r in conn.execute(
                "SELECT id FROM micrographs WHERE experiment_id = ? ORDER BY id", (current.id,))]
            conn.execute("DELETE FROM experiments WHERE id = ?", (current.id,))
            if gone:
                events.add("micrograph", gone)
            events.add("experiment", [current.id])
