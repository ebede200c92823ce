"""Report exports: CSV tables (per box, per micrograph, per experiment) and the PDF report
(:mod:`temnet_app.core.reports.pdf`), all written atomically (:mod:`temnet_app.core.atomic`).

Every CSV names the model, the run, the confidence threshold and the magnification used.
They are written by the one CSV writer, :mod:`temnet_app.core.csv_files` (formula-like text
escaped with a single quote, numbers never; UTF-8, one header row, atomic).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pandas as pd

from temnet_app.core.analysis import Statistics
from temnet_app.core.csv_files import write_table

DETECTION_COLUMNS = ("experiment", "micrograph_id", "file", "x1", "y1", "x2", "y2", "class",
                     "score", "model_id", "run_id", "threshold", "magnification",
                     "pixel_size_nm")


def _provenance(stats: Statistics) -> dict:
    run = stats.run
    return {"model_id": run.model_id if run is not None else "",
            "run_id": run.id if run is not None else pd.NA,
            "threshold": stats.threshold}


def detections_table(stats: Statistics) -> pd.DataFrame:
    """Every detection of the run with ``score >= threshold``: one row per box, xyxy pixels in
    full-micrograph coordinates, class name, score, model, run, threshold, magnification."""
    names = stats.scheme.names
    prov = _provenance(stats)
    parts = []
    for m in stats.data.micrographs:
        if not m.detected:
            continue
        keep = m.pred_score >= stats.threshold
        n = int(keep.sum())
        if not n:
            continue
        xyxy = m.pred_xyxy[keep]
        parts.append(pd.DataFrame({
            "experiment": [m.experiment] * n, "micrograph_id": np.full(n, m.micrograph_id),
            "file": [m.file] * n, "x1": xyxy[:, 0], "y1": xyxy[:, 1], "x2": xyxy[:, 2],
            "y2": xyxy[:, 3], "class": [names[c - 1] for c in m.pred_class[keep]],
            "score": m.pred_score[keep], "model_id": [prov["model_id"]] * n,
            "run_id": [prov["run_id"]] * n, "threshold": np.full(n, stats.threshold),
            "magnification": np.full(n, m.magnification),
            "pixel_size_nm": np.full(n, m.pixel_size_nm, dtype=np.float64)}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("experiment", "file", "class",
                                                                "model_id") else np.float64)
                             for c in DETECTION_COLUMNS})
    table = pd.concat(parts, ignore_index=True)
    return table[list(DETECTION_COLUMNS)]


def counts_table(stats: Statistics) -> pd.DataFrame:
    """The per-micrograph table (predicted and manual rows) with model, run and threshold."""
    table = stats.per_micrograph.copy()
    for key, value in _provenance(stats).items():
        table[key] = value
    return table


def summary_table(stats: Statistics) -> pd.DataFrame:
    """The per-experiment summary with agreement columns, model, run, threshold and the
    magnifications and pixel sizes of the experiment's micrographs (e.g. ``30000`` or
    ``25000;30000``, and ``0.561`` or ``0.28;0.561``)."""
    table = stats.per_experiment.copy()
    mags, sizes = {}, {}
    for m in stats.data.micrographs:
        mags.setdefault(m.experiment, set()).add(m.magnification)
        if m.pixel_size_nm is not None:
            sizes.setdefault(m.experiment, set()).add(round(m.pixel_size_nm, 4))
    table["magnifications"] = table["experiment"].map(
        lambda e: ";".join(f"{v:g}" for v in sorted(mags.get(e, ()))))
    table["pixel_sizes_nm"] = table["experiment"].map(
        lambda e: ";".join(f"{v:g}" for v in sorted(sizes.get(e, ()))))
    for key, value in _provenance(stats).items():
        table[key] = value
    return table


write_csv = write_table   # the one CSV writer (core.csv_files), under its report name


def report_stem(project_path) -> str:
    """File-name stem for a project's report files: its name without characters that are
    awkward in file names."""
    stem = re.sub(r"[^\w.-]+", "_", Path(project_path).stem).strip("._")
    return stem or "temnet"


def write_csv_reports(stats: Statistics, out_dir, stem: Optional[str] = None) -> dict[str, Path]:
    """``<stem>_detections.csv``, ``<stem>_micrograph_counts.csv`` and
    ``<stem>_experiment_summary.csv`` in ``out_dir``; returns ``{kind: path}``."""
    out = Path(out_dir)
    stem = stem or report_stem(stats.data.project_path)
    return {
        "detections": write_csv(detections_table(stats), out / f"{stem}_detections.csv"),
        "micrograph_counts": write_csv(counts_table(stats), out / f"{stem}_micrograph_counts.csv"),
        "experiment_summary": write_csv(summary_table(stats),
                                        out / f"{stem}_experiment_summary.csv"),
    }


def write_report(stats: Statistics, out_dir, *,
                 image_path: Optional[Callable[[int], Path]] = None,
                 stem: Optional[str] = None, progress=None, cancel=None) -> dict[str, Path]:
    """The three CSVs and ``<stem>_report.pdf`` (thumbnails when ``image_path(micrograph_id)``
    is given, e.g. ``project.image_path``); returns ``{kind: path}`` with ``pdf`` last."""
    from temnet_app.core.reports.pdf import write_pdf_report

    stem = stem or report_stem(stats.data.project_path)
    paths = write_csv_reports(stats, out_dir, stem)
    paths["pdf"] = write_pdf_report(stats, Path(out_dir) / f"{stem}_report.pdf",
                                    image_path=image_path, progress=progress, cancel=cancel)
    return paths
