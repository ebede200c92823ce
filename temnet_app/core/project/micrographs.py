"""Micrographs of a project: adding folders and files, finding image files again after a move,
and the scale (pixel size, magnification) used for each.

Stored paths are POSIX paths relative to the project file's folder (see
:mod:`temnet_app.core.project.files`); sizes are of the image as the app uses it (after the
info-band crop).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Optional, Union

from temnet_app.core.errors import MicrographError, ProjectError
from temnet_app.core.micrographs import is_micrograph_file, read_micrograph
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress
from temnet_app.core.project import sql
from temnet_app.core.project.files import (absolute, fallback_locations, file_size, is_hidden,
                                           matches, primary_location, sha256_file, stored_path)
from temnet_app.core.project.records import AddFolderResult, Experiment, Micrograph, utc_now
from temnet_app.core.project.store import Store
from temnet_app.core.scale import Scale, resolve_scale

MicrographRef = Union[Micrograph, int]


class Micrographs:
    """The micrographs table of one project file, and where their image files are now."""

    def __init__(self, store: Store, camera) -> None:
        self._store = store
        self._camera = camera           # () -> the project's CameraCalibration or None
        self._resolved: dict[int, tuple[Path, str]] = {}

    def add_folder(self, folder, name: Optional[str] = None,
                   magnification: Optional[float] = None, *,
                   pixel_size_nm: Optional[float] = None,
                   progress: Optional[ProgressFn] = None,
                   cancel: Optional[CancelToken] = None) -> AddFolderResult:
        """A new experiment named after ``folder`` (or ``name``; a taken name becomes
        ``name (2)``) with one micrograph per image file, in natural name order. Sub-folders,
        other files, unreadable images and byte-identical duplicates are skipped with a reason.
        Images are read before the single write transaction."""
        progress = progress or no_progress
        folder = absolute(Path(folder))
        if not folder.is_dir():
            raise ProjectError(f"not a folder: {folder}")
        magnification = sql.check_mag(magnification)
        pixel_size_nm = sql.check_pixel(pixel_size_nm)
        base_name = sql.clean_name(name if name is not None else folder.name)
        skipped: list[tuple[Path, str]] = []
        images: list[Path] = []
        try:
            entries = sorted(folder.iterdir(), key=_natural_key)
        except OSError as exc:
            raise ProjectError(f"cannot list folder {folder}: {exc.strerror or exc}") from exc
        for entry in entries:
            if is_hidden(entry):
                continue
            if entry.is_dir():
                skipped.append((entry, "sub-folder (not scanned; add it as its own experiment)"))
            elif is_micrograph_file(entry):
                images.append(entry)
            else:
                skipped.append((entry, "not a micrograph image file"))
        if not images:
            what = "is empty" if not skipped else "holds no micrograph images"
            raise ProjectError(f"folder {folder} {what}")
        records, first_seen, problems = [], {}, []
        for index, image in enumerate(images):
            check_cancel(cancel)
            progress(index / len(images), f"reading {image.name}")
            try:
                record = _read_image(image)
            except MicrographError as exc:
                problems.append(str(exc))
                skipped.append((image, str(exc)))
                continue
            if record["checksum"] in first_seen:
                skipped.append((image, f"same image as {first_seen[record['checksum']]}"))
                continue
            first_seen[record["checksum"]] = image.name
            records.append((image, record))
        if not records:
            raise ProjectError(f"none of the {len(images)} image files in {folder} could be "
                               f"read (first problem: {problems[0]})")
        check_cancel(cancel)
        with self._store.writing("add the folder") as (conn, events):
            experiment = sql.insert_experiment(conn, sql.unique_name(conn, base_name), "",
                                               magnification, pixel_size_nm)
            added = [self._insert_micrograph(conn, experiment, image, record)
                     for image, record in records]
            events.add("experiment", [experiment.id])
            events.add("micrograph", [m.id for m in added])
        progress(1.0, f"added {len(added)} micrographs to {experiment.name}")
        skipped.sort(key=lambda item: _natural_key(item[0]))
        return AddFolderResult(experiment, added, skipped)

    def add_micrograph(self, experiment_id: int, image_path) -> Micrograph:
        """Add one image file to an experiment (read once for size, metadata, checksum)."""
        image = absolute(Path(image_path))
        with self._store.reading() as conn:
            sql.get_experiment(conn, experiment_id)
        record = _read_image(image)
        with self._store.writing("add the micrograph") as (conn, events):
            micrograph = self._insert_micrograph(conn, sql.get_experiment(conn, experiment_id),
                                                 image, record)
            events.add("micrograph", [micrograph.id])
        return micrograph

    def _insert_micrograph(self, conn: sqlite3.Connection, experiment: Experiment,
                           image: Path, record: dict) -> Micrograph:
        path = stored_path(image, self._store.folder)
        clash = conn.execute(
            "SELECT path FROM micrographs WHERE experiment_id = ? AND (path = ? OR checksum = ?)",
            (experiment.id, path, record["checksum"])).fetchone()
        if clash is not None:
            same = "" if clash[0] == path else f" (as {clash[0]})"
            raise ProjectError(f"{image.name} is already in experiment "
                               f"{experiment.name!r}{same}")
        cursor = conn.execute(
            "INSERT INTO micrographs (experiment_id, path, abs_path, file_size, checksum, width, "
            "height, file_magnification, pixel_size_nm, added) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (experiment.id, path, image.as_posix(), record["size"], record["checksum"],
             record["width"], record["height"], record["magnification"],
             record["pixel_size_nm"], utc_now()))
        return sql.get_micrograph(conn, cursor.lastrowid)

    def micrographs(self, experiment_id: Optional[int] = None) -> list[Micrograph]:
        """Micrographs of one experiment (or all), by experiment then insertion order."""
        query = f"SELECT {Micrograph.COLUMNS} FROM micrographs"
        with self._store.reading() as conn:
            if experiment_id is None:
                rows = conn.execute(query + " ORDER BY experiment_id, id").fetchall()
            else:
                sql.get_experiment(conn, experiment_id)
                rows = conn.execute(query + " WHERE experiment_id = ? ORDER BY id",
                                    (int(experiment_id),)).fetchall()
        return [Micrograph.from_row(r) for r in rows]

    def micrograph(self, micrograph_id: int) -> Micrograph:
        with self._store.reading() as conn:
            return sql.get_micrograph(conn, micrograph_id)

    def remove_micrograph(self, micrograph_id: int) -> None:
        """Delete a micrograph with its manual data and detections (the image file stays)."""
        with self._store.writing("remove the micrograph") as (conn, events):
            micrograph = sql.get_micrograph(conn, micrograph_id)
            conn.execute("DELETE FROM micrographs WHERE id = ?", (micrograph.id,))
            events.add("micrograph", [micrograph.id])
        self._resolved.pop(micrograph.id, None)

    def image_path(self, micrograph: MicrographRef) -> Path:
        """The image file on disk: the stored path from the project folder if a file of the
        recorded size is there, else a fallback (see :func:`.files.fallback_locations`)
        whose size AND sha256 match. A found location is remembered for this session."""
        mid = _mid(micrograph)
        with self._store.reading() as conn:
            row = conn.execute(
                "SELECT m.path, m.abs_path, m.file_size, m.checksum, e.name FROM micrographs m "
                "JOIN experiments e ON e.id = m.experiment_id WHERE m.id = ?", (mid,)).fetchone()
        if row is None:
            raise ProjectError(f"no micrograph with id {mid} in this project")
        stored, abs_hint, size, checksum, experiment_name = row
        cached = self._resolved.get(mid)
        if cached and cached[1] == checksum and file_size(cached[0]) == size:
            return cached[0]
        primary = primary_location(stored, self._store.folder)
        found = primary if file_size(primary) == size else next(
            (p for p in fallback_locations(stored, self._store.folder, abs_hint, experiment_name)
             if matches(p, size, checksum)), None)
        if found is None:
            name = Path(stored).name
            if primary.exists():
                raise ProjectError(f"micrograph {name} has changed since it was added "
                                   f"(different file at {primary})")
            raise ProjectError(f"micrograph file not found: {name} (expected at {primary}); "
                               f"was it moved or deleted?")
        self._resolved[mid] = (found, checksum)
        return found

    def relink_micrograph(self, micrograph_id: int, image_path) -> Micrograph:
        """Point a micrograph at a moved file; it must have the same bytes (sha256)."""
        image = absolute(Path(image_path))
        current = self.micrograph(micrograph_id)
        try:
            same = sha256_file(image) == current.checksum
        except OSError as exc:
            raise ProjectError(f"cannot read {image}: {exc.strerror or exc}") from exc
        if not same:
            raise ProjectError(f"{image.name} is not the same file as micrograph {current.name}")
        with self._store.writing("relink the micrograph") as (conn, events):
            conn.execute("UPDATE micrographs SET path = ?, abs_path = ? WHERE id = ?",
                         (stored_path(image, self._store.folder), image.as_posix(), current.id))
            events.add("micrograph", [current.id])
            self._resolved.pop(current.id, None)
            return sql.get_micrograph(conn, current.id)

    def set_magnification_override(self, micrograph_id: int, value: Optional[float]) -> None:
        """Set (or clear with ``None``) the user's magnification for one micrograph."""
        self._set_override(micrograph_id, "magnification_override", sql.check_mag(value),
                           "set the magnification")

    def set_pixel_size_override(self, micrograph_id: int, value: Optional[float]) -> None:
        """Set (or clear with ``None``) the user's pixel size (nm) for one micrograph; it
        decides over a magnification override."""
        self._set_override(micrograph_id, "pixel_size_override", sql.check_pixel(value),
                           "set the pixel size")

    def _set_override(self, micrograph_id: int, column: str, value: Optional[float],
                      what: str) -> None:
        """Store a checked ``value`` in the micrograph's ``column`` (one of the two above)."""
        with self._store.writing(what) as (conn, events):
            micrograph = sql.get_micrograph(conn, micrograph_id)
            conn.execute(f"UPDATE micrographs SET {column} = ? WHERE id = ?",
                         (value, micrograph.id))
            events.add("micrograph", [micrograph.id])

    def scale(self, micrograph: MicrographRef) -> Scale:
        """The pixel size and magnification used for a micrograph and where each came from
        (see :func:`temnet_app.core.scale.resolve_scale`), read fresh from the file."""
        with self._store.reading() as conn:
            current = sql.get_micrograph(conn, _mid(micrograph))
            experiment = sql.get_experiment(conn, current.experiment_id)
        return resolve_scale(override_pixel_size=current.pixel_size_override,
                             override_magnification=current.magnification_override,
                             file_pixel_size=current.pixel_size_nm,
                             file_magnification=current.file_magnification,
                             experiment_pixel_size=experiment.pixel_size_nm,
                             experiment_magnification=experiment.magnification,
                             camera=self._camera())


def _mid(micrograph: MicrographRef) -> int:
    return int(micrograph.id if isinstance(micrograph, Micrograph) else micrograph)


def _read_image(image: Path) -> dict:
    """Size, metadata and checksum of one image file (MicrographError if unusable)."""
    size = file_size(image)
    if size is None:
        raise MicrographError(f"micrograph file not found: {image}")
    loaded = read_micrograph(image)
    try:
        checksum = sha256_file(image)
    except OSError as exc:
        raise MicrographError(f"cannot read {image}: {exc.strerror or exc}") from exc
    info = loaded.info
    return {"size": size, "checksum": checksum, "width": int(info.width),
            "height": int(info.height), "magnification": _opt_float(info.magnification),
            "pixel_size_nm": _opt_float(info.pixel_size_nm)}


def _opt_float(value) -> Optional[float]:
    return None if value is None else float(value)


def _natural_key(path: Path) -> tuple:
    """Sort key by stem then suffix, numbers by value, case-insensitive: ``img2.tif`` before
    ``img2 copy.tif`` before ``img10.tif``."""
    return ([int(part) if part.isdigit() else part.lower()
             for part in re.split(r"(\d+)", path.stem)], path.suffix.lower())
