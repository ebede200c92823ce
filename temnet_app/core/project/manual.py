"""Manual reference data of a project's micrographs: boxes drawn or imported by hand (the
"annotated" mark included), explicit per-class counts, and the "reviewed" mark.

Boxes are xyxy float pixels in full-micrograph coordinates; class ids index the project's class
names (1-based, see :mod:`.meta`).
"""

from __future__ import annotations

import math
import numbers
from typing import Mapping, Optional, Sequence

from temnet_app.core.annotations.counts import MAX_COUNT
from temnet_app.core.boxes import Box
from temnet_app.core.errors import ProjectError
from temnet_app.core.project import sql
from temnet_app.core.project.meta import Meta
from temnet_app.core.project.records import utc_now
from temnet_app.core.project.store import Store


class ManualData:
    """The manual_annotations, manual_boxes and manual_counts tables."""

    def __init__(self, store: Store, meta: Meta) -> None:
        self._store = store
        self._meta = meta

    def set_manual_boxes(self, micrograph_id: int, boxes: Sequence[Box]) -> None:
        """Replace all manual boxes of a micrograph and mark it annotated (an empty list
        means "annotated, no virions")."""
        boxes = list(boxes)
        self._meta.check_class_ids(boxes, "manual boxes")
        with self._store.writing("save the manual boxes") as (conn, events):
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
        with self._store.writing("clear the manual boxes") as (conn, events):
            mid = sql.existing_micrograph(conn, micrograph_id)
            conn.execute("DELETE FROM manual_annotations WHERE micrograph_id = ?", (mid,))
            events.add("manual", [mid])

    def manual_boxes(self, micrograph_id: int) -> list[Box]:
        """The micrograph's manual boxes in the order they were given."""
        with self._store.reading() as conn:
            rows = conn.execute("SELECT x1, y1, x2, y2, class_id FROM manual_boxes "
                                "WHERE micrograph_id = ? ORDER BY id",
                                (int(micrograph_id),)).fetchall()
            if not rows:
                sql.existing_micrograph(conn, micrograph_id)
        return [Box(*row) for row in rows]

    def annotated_micrograph_ids(self, experiment_id: Optional[int] = None) -> set[int]:
        """Micrographs with a stored manual box set (possibly empty)."""
        return self._ids_in("manual_annotations", experiment_id)

    def _ids_in(self, table: str, experiment_id: Optional[int]) -> set[int]:
        """The micrograph ids listed in ``table`` (of one experiment, or all)."""
        query = f"SELECT t.micrograph_id FROM {table} t"
        with self._store.reading() as conn:
            if experiment_id is None:
                rows = conn.execute(query).fetchall()
            else:
                rows = conn.execute(query + " JOIN micrographs m ON m.id = t.micrograph_id "
                                    "WHERE m.experiment_id = ?", (int(experiment_id),)).fetchall()
        return {r[0] for r in rows}

    def set_manual_counts(self, micrograph_id: int,
                          counts: Optional[Mapping[str, int]]) -> None:
        """Store explicit per-class counts (class name -> count >= 0), replacing earlier ones;
        ``None`` clears them. Names match the project's classes case-insensitively."""
        rows = None if counts is None else self._count_rows(counts)
        with self._store.writing("save the manual counts") as (conn, events):
            mid = sql.existing_micrograph(conn, micrograph_id)
            conn.execute("DELETE FROM manual_counts WHERE micrograph_id = ?", (mid,))
            if rows is not None:
                conn.executemany("INSERT INTO manual_counts (micrograph_id, class_name, count) "
                                 "VALUES (?, ?, ?)", [(mid, n, c) for n, c in rows])
            events.add("manual", [mid])

    def _count_rows(self, counts: Mapping[str, int]) -> list[tuple[str, int]]:
        scheme, rows = self._meta.scheme, {}
        for name, count in counts.items():
            try:
                canonical = scheme.name(scheme.id(name))
            except ValueError as exc:
                raise ProjectError(f"manual counts: {exc}") from exc
            if canonical in rows:
                raise ProjectError(f"manual counts: class {canonical!r} given twice")
            if (isinstance(count, bool) or not isinstance(count, numbers.Real)
                    or not math.isfinite(count) or not float(count).is_integer()
                    or not 0 <= count <= MAX_COUNT):
                raise ProjectError(f"manual counts: {canonical} count must be a whole number "
                                   f"from 0 to {MAX_COUNT:,}, got {count!r}")
            rows[canonical] = int(count)
        return list(rows.items())

    def manual_counts(self, micrograph_id: int) -> Optional[dict[str, int]]:
        """Explicit counts as stored (in class order), or ``None`` if none were set."""
        with self._store.reading() as conn:
            rows = dict(conn.execute("SELECT class_name, count FROM manual_counts "
                                     "WHERE micrograph_id = ?", (int(micrograph_id),)).fetchall())
            if not rows:
                sql.existing_micrograph(conn, micrograph_id)
                return None
        by_key = {name.lower(): count for name, count in rows.items()}
        return {n: by_key[n.lower()] for n in self._meta.class_names if n.lower() in by_key}

    # ----------------------------------------------------------------- reviewed mark
    def set_reviewed(self, micrograph_id: int, reviewed: bool) -> None:
        """Mark (or unmark) a micrograph as reviewed: its manual boxes were checked by hand."""
        with self._store.writing("save the reviewed mark") as (conn, events):
            mid = sql.existing_micrograph(conn, micrograph_id)
            if reviewed:
                conn.execute("INSERT INTO reviews (micrograph_id, reviewed) VALUES (?, ?) "
                             "ON CONFLICT (micrograph_id) DO UPDATE SET reviewed = "
                             "excluded.reviewed", (mid, utc_now()))
            else:
                conn.execute("DELETE FROM reviews WHERE micrograph_id = ?", (mid,))
            events.add("manual", [mid])

    def reviewed_micrograph_ids(self, experiment_id: Optional[int] = None) -> set[int]:
        """Micrographs marked as reviewed."""
        return self._ids_in("reviews", experiment_id)

