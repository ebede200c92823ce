"""Detection runs of a project and their detections.

A run stores, per micrograph, all detections with score >= its floor; storing a micrograph again
replaces its detections in that run, in one transaction.
"""

from __future__ import annotations

import json
import math
from typing import Optional, Sequence

import numpy as np

from temnet_app.core.boxes import Detection
from temnet_app.core.errors import ProjectError
from temnet_app.core.processes import current_owner, describe_owner
from temnet_app.core.project import sql
from temnet_app.core.project.meta import Meta
from temnet_app.core.project.records import RUN_STATUSES, DetectionRun, utc_now
from temnet_app.core.project.store import Store

_DET_COLUMNS = "x1, y1, x2, y2, class_id, score"


class Runs:
    """The runs, run_micrographs and detections tables."""

    def __init__(self, store: Store, meta: Meta) -> None:
        self._store = store
        self._meta = meta

    def start_run(self, model_id: str, settings: dict, score_floor: float) -> DetectionRun:
        """A new run with status ``running``; ``settings`` must be JSON-serialisable."""
        model_id = str(model_id).strip()
        if not model_id:
            raise ProjectError("a detection run needs a model id")
        try:
            settings_text = json.dumps(dict(settings), sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"run settings cannot be saved as JSON: {exc}") from exc
        try:
            floor = float(score_floor)
        except (TypeError, ValueError):
            floor = math.nan
        if not 0.0 <= floor <= 1.0:
            raise ProjectError(f"score floor must be in [0, 1], got {score_floor!r}")
        host, pid, token = current_owner()
        with self._store.writing("start a detection run") as (conn, events):
            cursor = conn.execute("INSERT INTO runs (model_id, settings, score_floor, status, "
                                  "created, owner_host, owner_pid, owner_token, heartbeat) "
                                  "VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)",
                                  (model_id, settings_text, floor, utc_now(), host, pid, token,
                                   utc_now()))
            events.add("run", [cursor.lastrowid])
            return sql.get_run(conn, cursor.lastrowid)

    def store_detections(self, run_id: int, micrograph_id: int,
                         detections: Sequence[Detection], scale=None) -> None:
        """Replace the micrograph's detections in the run, in ONE transaction. Detections
        scoring below the run's floor are not stored; zero detections still marks the
        micrograph as done in this run. ``scale`` (a :class:`~temnet_app.core.scale.Scale`)
        is kept as the run's provenance for the micrograph."""
        detections = list(detections)
        self._meta.check_class_ids(detections, "detections")
        for d in detections:
            if not isinstance(d, Detection):
                raise ProjectError(f"detections: expected Detection, got {type(d).__name__}")
        with self._store.writing("save the detections") as (conn, events):
            run = sql.get_run(conn, run_id)
            mid = sql.existing_micrograph(conn, micrograph_id)
            rows = [(run.id, mid, d.x1, d.y1, d.x2, d.y2, d.class_id, d.score)
                    for d in detections if d.score >= run.score_floor]
            conn.execute("DELETE FROM detections WHERE run_id = ? AND micrograph_id = ?",
                         (run.id, mid))
            size, text = (None, None) if scale is None else (scale.pixel_size_nm,
                                                             scale.origin())
            conn.execute("INSERT INTO run_micrographs (run_id, micrograph_id, stored, "
                         "pixel_size_nm, scale) VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                         "(run_id, micrograph_id) DO UPDATE SET stored = excluded.stored, "
                         "pixel_size_nm = excluded.pixel_size_nm, scale = excluded.scale",
                         (run.id, mid, utc_now(), size, text))
            conn.executemany(f"INSERT INTO detections (run_id, micrograph_id, {_DET_COLUMNS}) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.execute("UPDATE runs SET heartbeat = ? WHERE id = ? AND status = 'running'",
                         (utc_now(), run.id))
            events.add("detections", [mid], run_id=run.id)

    def run_scales(self, run_id: int) -> dict:
        """{micrograph id: (nm/px, where it came from)} recorded by :meth:`store_detections`."""
        with self._store.reading() as conn:
            run = sql.get_run(conn, run_id)
            rows = conn.execute("SELECT micrograph_id, pixel_size_nm, scale FROM run_micrographs "
                                "WHERE run_id = ? ORDER BY micrograph_id", (run.id,)).fetchall()
        return {int(m): (None if size is None else float(size), text) for m, size, text in rows}

    def finish_run(self, run_id: int, status: str) -> DetectionRun:
        """Set the run's status (``complete``, ``cancelled``, ``failed``, or back to
        ``running`` to resume); ``finished`` records when it left ``running``."""
        if status not in RUN_STATUSES:
            raise ProjectError(f"unknown run status {status!r} "
                               f"(expected one of {', '.join(RUN_STATUSES)})")
        if status == "running":
            return self.claim_run(run_id)
        with self._store.writing("finish the detection run") as (conn, events):
            run = sql.get_run(conn, run_id)
            conn.execute("UPDATE runs SET status = ?, finished = ?, owner_host = NULL, "
                         "owner_pid = NULL, owner_token = NULL WHERE id = ?",
                         (status, utc_now(), run.id))
            events.add("run", [run.id])
            return sql.get_run(conn, run.id)

    def claim_run(self, run_id: int) -> DetectionRun:
        """Make this process the one resuming run ``run_id`` (status back to running). Refused
        with :class:`ProjectError` while another live process is running it, so two resumers
        never redo the same run; an interrupted run (its process gone) can be claimed."""
        host, pid, token = current_owner()
        with self._store.writing("resume the detection run") as (conn, events):
            run = sql.get_run(conn, run_id)
            if run.status == "running" and run.owner and run.owner != describe_owner(host, pid):
                raise ProjectError(f"run #{run.id} is being run by {run.owner}; wait for it "
                                   f"to finish or cancel it there")
            conn.execute("UPDATE runs SET status = 'running', finished = NULL, owner_host = ?, "
                         "owner_pid = ?, owner_token = ?, heartbeat = ? WHERE id = ?",
                         (host, pid, token, utc_now(), run.id))
            events.add("run", [run.id])
            return sql.get_run(conn, run.id)

    def runs(self) -> list[DetectionRun]:
        with self._store.reading() as conn:
            rows = conn.execute(f"SELECT {DetectionRun.COLUMNS} FROM runs ORDER BY id").fetchall()
        return [DetectionRun.from_row(r) for r in rows]

    def run(self, run_id: int) -> DetectionRun:
        with self._store.reading() as conn:
            return sql.get_run(conn, run_id)

    def latest_run(self) -> Optional[DetectionRun]:
        """The newest complete run with detections stored; when no run is complete, the newest
        run with detections of any status (running, interrupted, cancelled, failed)."""
        with self._store.reading() as conn:
            row = conn.execute(
                f"SELECT {DetectionRun.COLUMNS} FROM runs r WHERE EXISTS (SELECT 1 FROM "
                "run_micrographs rm WHERE rm.run_id = r.id) ORDER BY status = 'complete' DESC, "
                "id DESC LIMIT 1").fetchone()
        return DetectionRun.from_row(row) if row else None

    def remove_run(self, run_id: int) -> None:
        with self._store.writing("remove the detection run") as (conn, events):
            run = sql.get_run(conn, run_id)
            conn.execute("DELETE FROM runs WHERE id = ?", (run.id,))
            events.add("run", [run.id])

    def detected_micrograph_ids(self, run_id: int) -> set[int]:
        """Micrographs whose detections are stored in the run (including zero detections)."""
        with self._store.reading() as conn:
            run = sql.get_run(conn, run_id)
            return {r[0] for r in conn.execute(
                "SELECT micrograph_id FROM run_micrographs WHERE run_id = ?", (run.id,))}

    def detections(self, run_id: int, micrograph_id: int,
                   min_score: float = 0.0) -> list[Detection]:
        """The micrograph's detections in the run with score >= ``min_score``, best first."""
        data = self._checked_rows(run_id, micrograph_id, min_score)
        return [Detection(x1, y1, x2, y2, int(c), s) for x1, y1, x2, y2, c, s in data.tolist()]

    def detection_arrays(self, run_id: int, micrograph_id: int, min_score: float = 0.0
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`detections` but as ``(xyxy (N, 4) float64, class_ids (N,) int64,
        scores (N,) float64)`` (no per-box objects: fast for overlays)."""
        data = self._checked_rows(run_id, micrograph_id, min_score)
        return data[:, :4].copy(), data[:, 4].astype(np.int64), data[:, 5].copy()

    def _checked_rows(self, run_id: int, micrograph_id: int, min_score: float) -> np.ndarray:
        """The rows as an ``(N, 6)`` float64 array; a damaged row (text or NaN where a number
        belongs, an unknown class id, a score outside [0, 1], e.g. after editing the file by
        hand) raises :class:`ProjectError` naming the table and row."""
        rows = self._detection_rows(run_id, micrograph_id, min_score)
        try:
            data = np.array([r[1:] for r in rows], dtype=np.float64).reshape(-1, 6)
        except (TypeError, ValueError):
            data = None
        n_classes = len(self._meta.class_names)
        bad = np.ones(len(rows), bool) if data is None else _invalid(data, n_classes)
        for index in np.flatnonzero(bad):
            problem = _row_problem(rows[index][1:], n_classes)
            if problem:
                raise ProjectError(f"damaged project {self._store.path.name}: table detections, "
                                   f"row {rows[index][0]} (run {run_id}, micrograph "
                                   f"{micrograph_id}): {problem}")
        return data

    def _detection_rows(self, run_id: int, micrograph_id: int, min_score: float) -> list:
        with self._store.reading() as conn:
            rows = conn.execute(
                f"SELECT rowid, {_DET_COLUMNS} FROM detections WHERE run_id = ? AND "
                "micrograph_id = ? AND score >= ? ORDER BY score DESC, rowid",
                (int(run_id), int(micrograph_id), _score(min_score))).fetchall()
            if not rows:
                sql.get_run(conn, run_id)
                sql.existing_micrograph(conn, micrograph_id)
        return rows

    def detection_counts(self, run_id: int, min_score: float = 0.0,
                         experiment_id: Optional[int] = None) -> dict[int, dict[str, int]]:
        """Per processed micrograph of the run, the number of detections per class name with
        score >= ``min_score`` (every class present, zeros included), counted in SQL."""
        experiment = "" if experiment_id is None else " AND m.experiment_id = ?"
        args = [int(run_id)] + ([] if experiment_id is None else [int(experiment_id)])
        with self._store.reading() as conn:
            sql.get_run(conn, run_id)
            ids = [r[0] for r in conn.execute(
                "SELECT rm.micrograph_id FROM run_micrographs rm JOIN micrographs m ON m.id = "
                f"rm.micrograph_id WHERE rm.run_id = ?{experiment} ORDER BY rm.micrograph_id",
                args)]
            grouped = conn.execute(
                "SELECT d.micrograph_id, d.class_id, count(*) FROM detections d JOIN micrographs"
                f" m ON m.id = d.micrograph_id WHERE d.run_id = ?{experiment} AND d.score >= ?"
                " GROUP BY d.micrograph_id, d.class_id", [*args, _score(min_score)]).fetchall()
        names = self._meta.class_names
        out = {mid: dict.fromkeys(names, 0) for mid in ids}
        for mid, class_id, n in grouped:
            if not (isinstance(class_id, int) and 1 <= class_id <= len(names)):
                raise ProjectError(f"damaged project {self._store.path.name}: table detections "
                                   f"(run {run_id}, micrograph {mid}): class id {class_id!r} is "
                                   f"not one of the project's {len(names)} classes")
            out[mid][names[class_id - 1]] = int(n)
        return out

    def latest_runs(self) -> dict[int, int]:
        """For every micrograph stored in some run, the newest such run (highest id)."""
        with self._store.reading() as conn:
            rows = conn.execute("SELECT micrograph_id, max(run_id) FROM run_micrographs "
                                "GROUP BY micrograph_id").fetchall()
        return {int(mid): int(run_id) for mid, run_id in rows}

    def latest_scores(self, micrograph_ids: Optional[Sequence[int]] = None
                      ) -> tuple[dict[int, int], np.ndarray]:
        """The newest run of each micrograph (all, or ``micrograph_ids``) and that run's
        detections as one ``(N, 3)`` float64 array of ``micrograph_id, class_id, score``,
        sorted by micrograph id then descending score. What the window counts at a threshold
        without touching the database again."""
        with self._store.reading() as conn:
            latest = ("SELECT micrograph_id, max(run_id) AS run_id FROM run_micrographs "
                      "GROUP BY micrograph_id")
            args: list = []
            if micrograph_ids is not None:
                ids = [int(i) for i in micrograph_ids]
                if not ids:
                    return {}, np.zeros((0, 3))
                latest = (f"SELECT micrograph_id, max(run_id) AS run_id FROM run_micrographs "
                          f"WHERE micrograph_id IN ({','.join('?' * len(ids))}) "
                          f"GROUP BY micrograph_id")
                args = ids
            runs = dict(conn.execute(latest, args).fetchall())
            rows = conn.execute(
                f"SELECT d.micrograph_id, d.class_id, d.score FROM detections d JOIN ({latest}) "
                "l ON l.micrograph_id = d.micrograph_id AND l.run_id = d.run_id "
                "ORDER BY d.micrograph_id, d.score DESC", args).fetchall()
        try:
            data = np.array(rows, dtype=np.float64).reshape(-1, 3)
            bad = np.flatnonzero(_invalid(data, len(self._meta.class_names)))
        except (TypeError, ValueError):
            data, bad = None, [i for i, r in enumerate(rows)
                               if not all(isinstance(v, (int, float)) for v in r)]
        if len(bad):
            mid = rows[int(bad[0])][0]
            self._checked_rows(runs[mid], mid, 0.0)   # raises, naming the row
            raise ProjectError(f"damaged project {self._store.path.name}: table detections, "
                               f"micrograph {mid}: unreadable class or score")
        return {int(k): int(v) for k, v in runs.items()}, data


def _invalid(rows: np.ndarray, n_classes: int) -> np.ndarray:
    """Per row of ``rows`` (numeric columns ending with ``class_id, score``): True when any value
    is not finite, the class is not one of the ``n_classes`` whole ids, or the score is outside
    [0, 1]."""
    class_id, score = rows[:, -2], rows[:, -1]
    return (~np.isfinite(rows).all(axis=1) | (class_id < 1) | (class_id > n_classes)
            | (class_id != np.round(class_id)) | (score < 0) | (score > 1))


def _row_problem(values: Sequence, n_classes: int) -> str:
    """What is wrong with one detections row ``x1, y1, x2, y2, class_id, score``, or ""."""
    names = ("x1", "y1", "x2", "y2", "class_id", "score")
    for name, value in zip(names, values):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{name} is {value!r}, not a number"
        if not math.isfinite(value):
            return f"{name} is {value!r}"
    class_id, score = values[4], values[5]
    if class_id != int(class_id) or not 1 <= class_id <= n_classes:
        return f"class id {class_id!r} is not one of the project's {n_classes} classes"
    if not 0.0 <= score <= 1.0:
        return f"score {score!r} is outside [0, 1]"
    return ""


def _score(value: float) -> float:
    score = float(value)
    if math.isnan(score):
        raise ProjectError("minimum score must be a number")
    return score
