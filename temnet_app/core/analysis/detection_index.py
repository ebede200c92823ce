"""Counts of stored detections at any confidence threshold, without the database.

The window's confidence slider re-counts every micrograph of a project on each step. A
:class:`DetectionIndex` reads, once, the detections of the newest run of each detected
micrograph (:meth:`Project.latest_scores`) and answers counts at a threshold with numpy
(``score >= threshold``, the rule of :func:`temnet_app.core.boxes.filter_by_score`). After new
detections are stored it re-reads only the micrographs that changed.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np


class DetectionIndex:
    """Class ids and scores of the current detections of every detected micrograph."""

    def __init__(self, class_names: Sequence[str]) -> None:
        self.class_names = tuple(class_names)
        self._runs: dict[int, int] = {}
        self._mids = np.zeros(0, dtype=np.int64)
        self._classes = np.zeros(0, dtype=np.int64)
        self._scores = np.zeros(0, dtype=np.float64)
        self._cache: tuple[Optional[float], dict[int, np.ndarray]] = (None, {})

    @classmethod
    def from_project(cls, project) -> "DetectionIndex":
        index = cls(project.class_names)
        index.refresh(project)
        return index

    def refresh(self, project, micrograph_ids: Optional[Iterable[int]] = None) -> None:
        """Re-read all micrographs, or only ``micrograph_ids`` (a removed micrograph or one
        without detections any more is dropped)."""
        if micrograph_ids is None:
            runs, rows = project.latest_scores()
            self._runs = runs
            keep = np.zeros(0, dtype=bool)
            self._set_rows(rows, keep, replace_all=True)
            return
        ids = sorted({int(i) for i in micrograph_ids})
        runs, rows = project.latest_scores(ids)
        for mid in ids:
            self._runs.pop(mid, None)
        self._runs.update(runs)
        keep = ~np.isin(self._mids, ids)
        self._set_rows(rows, keep, replace_all=False)

    def _set_rows(self, rows: np.ndarray, keep: np.ndarray, replace_all: bool) -> None:
        mids = rows[:, 0].astype(np.int64)
        classes = rows[:, 1].astype(np.int64)
        scores = rows[:, 2].astype(np.float64)
        if not replace_all:
            mids = np.concatenate([self._mids[keep], mids])
            classes = np.concatenate([self._classes[keep], classes])
            scores = np.concatenate([self._scores[keep], scores])
        self._mids, self._classes, self._scores = mids, classes, scores
        self._cache = (None, {})

    # ----------------------------------------------------------------- queries
    def detected(self, micrograph_id: int) -> bool:
        """True when some run stored this micrograph (even with zero detections)."""
        return int(micrograph_id) in self._runs

    def run_of(self, micrograph_id: int) -> Optional[int]:
        """The run whose detections are counted for this micrograph."""
        return self._runs.get(int(micrograph_id))

    @property
    def detected_ids(self) -> set[int]:
        return set(self._runs)

    def __len__(self) -> int:
        return int(self._scores.size)

    def counts(self, threshold: float) -> dict[int, np.ndarray]:
        """``{micrograph_id: counts per class (int array, class order)}`` for every detected
        micrograph, counting detections with score >= ``threshold``."""
        cached_threshold, cached = self._cache
        if cached_threshold == float(threshold):
            return cached
        n_classes = len(self.class_names)
        ids = np.array(sorted(self._runs), dtype=np.int64)
        table = np.zeros((ids.size, n_classes), dtype=np.int64)
        mask = self._scores >= float(threshold)
        if ids.size and mask.any():
            rows = np.searchsorted(ids, self._mids[mask])
            cols = np.clip(self._classes[mask] - 1, 0, n_classes - 1)
            np.add.at(table, (rows, cols), 1)
        result = {int(mid): table[i] for i, mid in enumerate(ids)}
        self._cache = (float(threshold), result)
        return result

    def counts_of(self, micrograph_id: int, threshold: float) -> Optional[np.ndarray]:
        """Counts per class of one micrograph, or None when it was never detected."""
        return self.counts(threshold).get(int(micrograph_id))

    def total(self, micrograph_ids: Iterable[int], threshold: float) -> Optional[np.ndarray]:
        """Summed counts per class over the detected ones of ``micrograph_ids`` (None if none
        of them was detected)."""
        table = self.counts(threshold)
        found = [table[int(m)] for m in micrograph_ids if int(m) in table]
        if not found:
            return None
        return np.sum(found, axis=0)
