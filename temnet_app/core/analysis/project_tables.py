"""Statistics of a project's detection run at a confidence threshold.

Two steps, so the GUI slider can re-count without touching the database:
:func:`load_statistics_input` reads a run's stored detections and the manual reference data
once; :func:`compute_statistics` counts them at a threshold (``score >= threshold``, the rule
of :func:`temnet_app.core.boxes.filter_by_score`) and builds the tables of
:mod:`temnet_app.core.analysis.statistics`. :func:`project_statistics` does both.

Manual counts of a micrograph: its explicit manual counts when set, else the counts of its
manual boxes when it is annotated (an empty box set counts as zero virions), else none.
Precision / recall / F1 / mAP (:func:`temnet_app.core.analysis.metrics.evaluate`, IoU > 0.5) are
computed per experiment over the micrographs that have both detections in the run and manual boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Optional, Union

import numpy as np
import pandas as pd

from temnet_app.core.analysis.metrics import Evaluation, evaluate
from temnet_app.core.analysis.statistics import experiment_summary, micrograph_table
from temnet_app.core.boxes import Box, ClassScheme, Detection
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress


@dataclass(frozen=True)
class MicrographInput:
    """What the statistics need of one micrograph. ``pred_*`` hold every stored detection of
    the run (``detected`` False: the run did not process it); ``manual_counts`` is None
    without manual data; ``manual_boxes`` is None when it has no manual box set.
    ``pixel_size_nm`` / ``scale``: the pixel size the run used and where it came from (for a
    run stored before project format 4, or no run, the project's current scale)."""

    experiment: str
    experiment_id: int
    micrograph_id: int
    file: str
    magnification: float
    detected: bool
    pred_xyxy: np.ndarray
    pred_class: np.ndarray
    pred_score: np.ndarray
    manual_counts: Optional[dict[str, int]]
    manual_boxes: Optional[tuple[Box, ...]]
    pixel_size_nm: Optional[float] = None
    scale: str = ""

    @cached_property
    def detections(self) -> tuple[Detection, ...]:
        """Every stored detection as records (built once, reused at every threshold)."""
        return tuple(Detection(*map(float, xyxy), int(c), float(s))
                     for xyxy, c, s in zip(self.pred_xyxy, self.pred_class, self.pred_score))


@dataclass(frozen=True)
class StatisticsInput:
    """A project's data for the statistics; ``run`` is None when it has no detection run."""

    project_path: str
    scheme: ClassScheme
    run: Optional[object]
    experiments: tuple[str, ...]
    micrographs: tuple[MicrographInput, ...]
    run_ids: tuple[int, ...] = ()     # every run whose detections are used (newest mode)

    def scores(self) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, class_ids)`` of every stored detection of the run."""
        done = [m for m in self.micrographs if m.detected]
        if not done:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        return (np.concatenate([m.pred_score for m in done]),
                np.concatenate([m.pred_class for m in done]).astype(np.int64))


@dataclass(frozen=True)
class Statistics:
    """Tables at one threshold: ``per_micrograph`` (:func:`statistics.micrograph_table`) and
    ``per_experiment`` (:func:`statistics.experiment_summary`); ``evaluations`` per experiment
    name; ``notes`` are remarks for the user (e.g. a threshold below the run's score floor)."""

    data: StatisticsInput
    threshold: float
    per_micrograph: pd.DataFrame
    per_experiment: pd.DataFrame
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def scheme(self) -> ClassScheme:
        return self.data.scheme

    @property
    def run(self):
        return self.data.run


NEWEST = "newest"


def load_statistics_input(project, run_id: Optional[Union[int, str]] = None, *,
                          progress: Optional[ProgressFn] = None,
                          cancel: Optional[CancelToken] = None) -> StatisticsInput:
    """Read run ``run_id`` (default: the latest run with stored detections, or none) and the
    manual data of every micrograph of ``project``. Raises ProjectError for an unknown run.

    ``run_id="newest"`` takes each micrograph's detections from the newest run that stored
    it (what the window shows); ``run`` is then the newest of those runs."""
    progress = progress or no_progress
    if run_id == NEWEST:
        source = project.latest_runs()
        run = project.run(max(source.values())) if source else None
    else:
        run = project.run(run_id) if run_id is not None else project.latest_run()
        source = dict.fromkeys(project.detected_micrograph_ids(run.id), run.id) \
            if run is not None else {}
    annotated = project.annotated_micrograph_ids()
    recorded = {rid: project.run_scales(rid) for rid in set(source.values())}
    experiments = project.experiments()
    all_micrographs = [(e, m) for e in experiments for m in project.micrographs(e.id)]
    items = []
    for index, (experiment, m) in enumerate(all_micrographs):
        check_cancel(cancel)
        progress(index / max(1, len(all_micrographs)), f"reading {m.name}")
        detected = m.id in source
        if detected:
            xyxy, cls, score = project.detection_arrays(source[m.id], m.id)
        else:
            xyxy, cls, score = np.zeros((0, 4)), np.zeros(0, dtype=np.int64), np.zeros(0)
        boxes = tuple(project.manual_boxes(m.id)) if m.id in annotated else None
        counts = project.manual_counts(m.id)
        if counts is not None:
            counts = {n: int(counts.get(n, 0)) for n in project.scheme.names}
        elif boxes is not None:
            counts = _count_ids(np.array([b.class_id for b in boxes], dtype=np.int64),
                                project.scheme)
        scale = project.scale(m)
        size, text = recorded[source[m.id]].get(m.id, (None, None)) if detected else (None, None)
        if size is None:
            size, text = scale.pixel_size_nm, scale.origin()
        items.append(MicrographInput(experiment.name, experiment.id, m.id, m.name,
                                     float(scale.magnification), detected, xyxy, cls, score,
                                     counts, boxes, float(size), text))
    progress(1.0, "statistics data read")
    return StatisticsInput(str(project.path), project.scheme, run,
                           tuple(e.name for e in experiments), tuple(items),
                           tuple(sorted(set(source.values()))))


def _count_ids(class_ids: np.ndarray, scheme: ClassScheme) -> dict[str, int]:
    per_id = np.bincount(class_ids, minlength=len(scheme.names) + 1)
    return {name: int(per_id[i]) for i, name in enumerate(scheme.names, start=1)}


def compute_statistics(data: StatisticsInput, threshold: float = 0.5, *,
                       with_metrics: bool = True, yates: bool = False) -> Statistics:
    """Count detections with ``score >= threshold`` and build the tables (see module doc)."""
    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"confidence threshold must be between 0 and 1, got {threshold}")
    names = data.scheme.names
    rows = []
    predictions: dict[str, dict[str, list[Detection]]] = {}
    truths: dict[str, dict[str, list[Box]]] = {}
    for m in data.micrographs:
        base = {"experiment": m.experiment, "experiment_id": m.experiment_id,
                "micrograph_id": m.micrograph_id, "file": m.file,
                "magnification": m.magnification, "pixel_size_nm": m.pixel_size_nm,
                "scale": m.scale}
        if m.detected:
            kept = m.pred_class[m.pred_score >= threshold].astype(np.int64)
            rows.append({**base, "source": "predicted", "counts": _count_ids(kept, data.scheme)})
        if m.manual_counts is not None:
            rows.append({**base, "source": "manual", "counts": m.manual_counts})
        if with_metrics and m.detected and m.manual_boxes is not None:
            key = str(m.micrograph_id)
            predictions.setdefault(m.experiment, {})[key] = m.detections
            truths.setdefault(m.experiment, {})[key] = list(m.manual_boxes)
    evaluations = {name: evaluate(predictions[name], truths[name], data.scheme.ids,
                                  iou_threshold=0.5, score_threshold=threshold)
                   for name in truths}
    per_micrograph = micrograph_table(rows, names)
    metrics = {name: (ev, len(truths[name])) for name, ev in evaluations.items()}
    per_experiment = experiment_summary(per_micrograph, names, experiments=data.experiments,
                                        metrics=metrics, yates=yates)
    notes = []
    if data.run is None:
        notes.append("no detection run: manual data only")
    elif len(data.run_ids) > 1:
        notes.append("detections of each micrograph from its newest run: runs "
                     + ", ".join(f"#{r}" for r in data.run_ids))
    elif threshold < data.run.score_floor:
        notes.append(f"threshold {threshold:g} is below the run's score floor "
                     f"{data.run.score_floor:g}: weaker detections were never stored")
    return Statistics(data, threshold, per_micrograph, per_experiment, evaluations, tuple(notes))


def project_statistics(project, run_id: Optional[int] = None, threshold: float = 0.5, *,
                       progress: Optional[ProgressFn] = None,
                       cancel: Optional[CancelToken] = None) -> Statistics:
    """:func:`load_statistics_input` then :func:`compute_statistics`."""
    return compute_statistics(load_statistics_input(project, run_id, progress=progress,
                                                    cancel=cancel), threshold)
