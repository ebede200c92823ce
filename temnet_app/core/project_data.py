"""Per-micrograph data of a project: class names, manual reference boxes and counts, detection
runs and their detections. Mixed into :class:`temnet_app.core.project.Project`.

Boxes are xyxy float pixels in full-micrograph coordinates; class ids index the project's
class names (1-based). A run stores, per micrograph, all detections with score >= its floor;
storing a micrograph again replaces its detections in that run, in one transaction.
"""

from __future__ import annotations

import json
import math
from typing import Mapping, Optional, Sequence

import numpy as np

from temnet_app.core import project_sql as sql
from temnet_app.core.boxes import Box, ClassScheme, Detection
from temnet_app.core.errors import ProjectError
from temnet_app.core.project_records import RUN_STATUSES, DetectionRun, utc_now

_DET_COLUMNS = "x1, y1, x2, y2, class_id, score"


class ProjectDataMixin:
    """Class names, manual data and detection runs (needs ``_reading``/``_writing``)."""

    # ----------------------------------------------------------------- classes
    def _load_class_names(self) -> tuple[str, ...]:
        with self._reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'class_names'").fetchone()
        try:
            return ClassScheme(tuple(json.loads(row[0]))).names
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"{self.path.name}: damaged class list in the project") from exc

    @property
    def class_names(self) -> tuple[str, ...]:
        """Foreground class names; class id ``i + 1`` is ``class_names[i]``."""
        return self._class_names

    @property
    def scheme(self) -> ClassScheme:
        return ClassScheme(self._class_names)

    def set_class_names(self, names: Sequence[str]) -> None:
        """Replace the class names (e.g. from a model card). Refused if stored boxes use a
        class id beyond the new list or manual counts use a name not in it."""
        try:
            scheme = ClassScheme(tuple(names))
        except ValueError as exc:
            raise ProjectError(f"invalid class names: {exc}") from exc
        with self._writing("change the class names") as (conn, events):
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
            conn.execute("UPDATE meta SET value = ? WHERE key = 'class_names'",
                         (json.dumps(list(scheme.names)),))
            events.add("classes", [])
        self._class_names = scheme.names

    def _check_class_ids(self, boxes: Sequence[Box], what: str) -> None:
        top = len(self._class_names)
        for box in boxes:
            if not isinstance(box, Box):
                raise ProjectError(f"{what}: expected boxes, got {type(box).__name__}")
            if box.class_id > top:
                raise ProjectError(f"{what}: class id {box.class_id} is not one of the project's "
                                   f"classes (1..{top}: {', '.join(self._class_names)})")

    # ----------------------------------------------------------------- manual reference data
    def set_manual_boxes(self, micrograph_id: int, boxes: Sequence[Box]) -> None:
        """Replace all manual boxes of a micrograph and mark it annotated (an empty list
        means "annotated, no virions")."""
        boxes = list(boxes)
        self._check_class_ids(boxes, "manual boxes")
        with self._writing("save the manual boxes") as (conn, events):
            mid = sql.existing_micrograph(conn, micrograph_id)
            conn.execute("INSERT INTO manual_annotations (micrograph_id, updated) VALUES (?, ?) "
                         "ON CONFLICT (micrograph_id) DO UPDATE SET updated = excluded.updated",
                         (mid, utc_now()))
            conn.execute("DELETE FROM manual_boxes WHERE micrograph_id = ?", (mid,))
            conn.executemany(
                "INSERT INTO manual_boxes (micrograph_id, x1, y1, x2, y2, class_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(mid, b.x1, b.y1, b.x2, b.y2, b.class_id) for b in boxes])
            events.add("manual", [mid])

    def clear_manual_boxes(self, micrograph_id: int) -> None:
        """Remove a micrograph's manual boxes and its "annotated" mark."""
        with self._writing("clear the manual boxes") as (conn, events):
            mid = sql.existing_micrograph(conn, micrograph_id)
            conn.execute("DELETE FROM manual_annotations WHERE micrograph_id = ?", (mid,))
            events.add("manual", [mid])

    def manual_boxes(self, micrograph_id: int) -> list[Box]:
        """The micrograph's manual boxes in the order they were given."""
        with self._reading() as conn:
            rows = conn.execute("SELECT x1, y1, x2, y2, class_id FROM manual_boxes "
                                "WHERE micrograph_id = ? ORDER BY id",
                                (int(micrograph_id),)).fetchall()
            if not rows:
                sql.existing_micrograph(conn, micrograph_id)
        return [Box(*row) for row in rows]

    def annotated_micrograph_ids(self, experiment_id: Optional[int] = None) -> set[int]:
        """Micrographs with a stored manual box set (possibly empty)."""
        query = "SELECT a.micrograph_id FROM manual_annotations a"
        with self._reading() as conn:
            if experiment_id is None:
                rows = conn.execute(query).fetchall()
            else:
                rows = conn.execute(query + " JOIN micrographs m ON m.id = a.micrograph_id "
                                    "WHERE m.experiment_id = ?", (int(experiment_id),)).fetchall()
        return {r[0] for r in rows}

    def set_manual_counts(self, micrograph_id: int,
                          counts: Optional[Mapping[str, int]]) -> None:
        """Store explicit per-class counts (class name -> count >= 0), replacing earlier ones;
        ``None`` clears them. Names match the project's classes case-insensitively."""
        rows = None if counts is None else self._count_rows(counts)
        with self._writing("save the manual counts") as (conn, events):
            mid = sql.existing_micrograph(conn, micrograph_id)
            conn.execute("DELETE FROM manual_counts WHERE micrograph_id = ?", (mid,))
            if rows is not None:
                conn.executemany("INSERT INTO manual_counts (micrograph_id, class_name, count) "
                                 "VALUES (?, ?, ?)", [(mid, n, c) for n, c in rows])
            events.add("manual", [mid])

    def _count_rows(self, counts: Mapping[str, int]) -> list[tuple[str, int]]:
        scheme, rows = self.scheme, {}
        for name, count in counts.items():
            try:
                canonical = scheme.name(scheme.id(name))
            except ValueError as exc:
                raise ProjectError(f"manual counts: {exc}") from exc
            if canonical in rows:
                raise ProjectError(f"manual counts: class {canonical!r} given twice")
            if isinstance(count, bool) or not float(count).is_integer() or count < 0:
                raise ProjectError(f"manual counts: {canonical} count must be a whole number "
                                   f">= 0, got {count!r}")
            rows[canonical] = int(count)
        return list(rows.items())

    def manual_counts(self, micrograph_id: int) -> Optional[dict[str, int]]:
        """Explicit counts as stored (in class order), or ``None`` if none were set."""
        with self._reading() as conn:
            rows = dict(conn.execute("SELECT class_name, count FROM manual_counts "
                                     "WHERE micrograph_id = ?", (int(micrograph_id),)).fetchall())
            if not rows:
                sql.existing_micrograph(conn, micrograph_id)
                return None
        by_key = {name.lower(): count for name, count in rows.items()}
        return {n: by_key[n.lower()] for n in self._class_names if n.lower() in by_key}

    # ----------------------------------------------------------------- detection runs
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
        with self._writing("start a detection run") as (conn, events):
            cursor = conn.execute("INSERT INTO runs (model_id, settings, score_floor, status, "
                                  "created) VALUES (?, ?, ?, 'running', ?)",
                                  (model_id, settings_text, floor, utc_now()))
            events.add("run", [cursor.lastrowid])
            return sql.get_run(conn, cursor.lastrowid)

    def store_detections(self, run_id: int, micrograph_id: int,
                         detections: Sequence[Detection]) -> None:
        """Replace the micrograph's detections in the run, in ONE transaction. Detections
        scoring below the run's floor are not stored; zero detections still marks the
        micrograph as done in this run."""
        detections = list(detections)
        self._check_class_ids(detections, "detections")
        for d in detections:
            if not isinstance(d, Detection):
                raise ProjectError(f"detections: expected Detection, got {type(d).__name__}")
        with self._writing("save the detections") as (conn, events):
            run = sql.get_run(conn, run_id)
            mid = sql.existing_micrograph(conn, micrograph_id)
            rows = [(run.id, mid, d.x1, d.y1, d.x2, d.y2, d.class_id, d.score)
                    for d in detections if d.score >= run.score_floor]
            conn.execute("DELETE FROM detections WHERE run_id = ? AND micrograph_id = ?",
                         (run.id, mid))
            conn.execute("INSERT INTO run_micrographs (run_id, micrograph_id, stored) "
                         "VALUES (?, ?, ?) ON CONFLICT (run_id, micrograph_id) "
                         "DO UPDATE SET stored = excluded.stored", (run.id, mid, utc_now()))
            conn.executemany(f"INSERT INTO detections (run_id, micrograph_id, {_DET_COLUMNS}) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            events.add("detections", [mid], run_id=run.id)

    def finish_run(self, run_id: int, status: str) -> DetectionRun:
        """Set the run's status (``complete``, ``cancelled``, ``failed``, or back to
        ``running`` to resume); ``finished`` records when it left ``running``."""
        if status not in RUN_STATUSES:
            raise ProjectError(f"unknown run status {status!r} "
                               f"(expected one of {', '.join(RUN_STATUSES)})")
        with self._writing("finish the detection run") as (conn, events):
            run = sql.get_run(conn, run_id)
            conn.execute("UPDATE runs SET status = ?, finished = ? WHERE id = ?",
                         (status, None if status == "running" else utc_now(), run.id))
            events.add("run", [run.id])
            return sql.get_run(conn, run.id)

    def runs(self) -> list[DetectionRun]:
        with self._reading() as conn:
            rows = conn.execute(f"SELECT {DetectionRun.COLUMNS} FROM runs ORDER BY id").fetchall()
        return [DetectionRun.from_row(r) for r in rows]

    def run(self, run_id: int) -> DetectionRun:
        with self._reading() as conn:
            return sql.get_run(conn, run_id)

    def latest_run(self) -> Optional[DetectionRun]:
        """The newest run with detections stored for at least one micrograph (any status)."""
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {DetectionRun.COLUMNS} FROM runs r WHERE EXISTS (SELECT 1 FROM "
                "run_micrographs rm WHERE rm.run_id = r.id) ORDER BY id DESC LIMIT 1").fetchone()
        return DetectionRun.from_row(row) if row else None

    def remove_run(self, run_id: int) -> None:
        with self._writing("remove the detection run") as (conn, events):
            run = sql.get_run(conn, run_id)
            conn.execute("DELETE FROM runs WHERE id = ?", (run.id,))
            events.add("run", [run.id])

    def detected_micrograph_ids(self, run_id: int) -> set[int]:
        """Micrographs whose detections are stored in the run (including zero detections)."""
        with self._reading() as conn:
            run = sql.get_run(conn, run_id)
            return {r[0] for r in conn.execute(
                "SELECT micrograph_id FROM run_micrographs WHERE run_id = ?", (run.id,))}

    def detections(self, run_id: int, micrograph_id: int,
                   min_score: float = 0.0) -> list[Detection]:
        """The micrograph's detections in the run with score >= ``min_score``, best first."""
        return [Detection(*row) for row in self._detection_rows(run_id, micrograph_id,
                                                                 min_score)]

    def detection_arrays(self, run_id: int, micrograph_id: int, min_score: float = 0.0
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`detections` but as ``(xyxy (N, 4) float64, class_ids (N,) int64,
        scores (N,) float64)`` (no per-box objects: fast for overlays)."""
        data = np.array(self._detection_rows(run_id, micrograph_id, min_score),
                        dtype=np.float64).reshape(-1, 6)
        return data[:, :4].copy(), data[:, 4].astype(np.int64), data[:, 5].copy()

    def _detection_rows(self, run_id: int, micrograph_id: int, min_score: float) -> list:
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_DET_COLUMNS} FROM detections WHERE run_id = ? AND micrograph_id = ? "
                "AND score >= ? ORDER BY score DESC, rowid",
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
        with self._reading() as conn:
            sql.get_run(conn, run_id)
            ids = [r[0] for r in conn.execute(
                "SELECT rm.micrograph_id FROM run_micrographs rm JOIN micrographs m ON m.id = "
                f"rm.micrograph_id WHERE rm.run_id = ?{experiment} ORDER BY rm.micrograph_id",
                args)]
            grouped = conn.execute(
                "SELECT d.micrograph_id, d.class_id, count(*) FROM detections d JOIN micrographs"
                f" m ON m.id = d.micrograph_id WHERE d.run_id = ?{experiment} AND d.score >= ?"
                " GROUP BY d.micrograph_id, d.class_id", [*args, _score(min_score)]).fetchall()
        names = self._class_names
        out = {mid: dict.fromkeys(names, 0) for mid in ids}
        for mid, class_id, n in grouped:
            out[mid][names[class_id - 1]] = int(n)
        return out


def _score(value: float) -> float:
    score = float(value)
    if math.isnan(score):
        raise ProjectError("minimum score must be a number")
    return score
