"""Exports of a project, each file written atomically: the report (CSV tables and PDF) at a
confidence threshold, the manual annotations as VIA CSV and COCO JSON, and PNG overlays of
chosen micrographs. Detections are each micrograph's newest run, as the window shows them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional, Sequence

from temnet_app.core.errors import MicrographError, ProjectError
from temnet_app.core.progress import (CancelToken, ProgressFn, check_cancel, no_progress,
                                      scaled)

EXPORT_KINDS = ("report", "annotations", "overlays")
OVERLAY_MAX_SIDE = 2400


def _stem(project) -> str:
    return re.sub(r"[^\w.-]+", "_", project.path.stem).strip("_") or "project"


def export_report(project, out_dir, threshold: float, thumbnails: bool = True,
                  progress: Optional[ProgressFn] = None,
                  cancel: Optional[CancelToken] = None) -> dict[str, Path]:
    """The CSV tables and the PDF report of ``project`` at ``threshold`` in ``out_dir``."""
    from temnet_app.core.reports import write_report
    from temnet_app.jobs.statistics import load_statistics

    progress = progress or no_progress
    progress(0.0, "counting")
    stats = load_statistics(project, "newest", threshold)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return write_report(stats, out_dir, image_path=project.image_path if thumbnails else None,
                        progress=progress, cancel=cancel)


def export_annotations(project, out_dir, micrograph_ids: Optional[Sequence[int]] = None
                       ) -> dict[str, Path]:
    """The manual boxes of the annotated micrographs (all, or ``micrograph_ids``) as a VIA CSV
    and a COCO JSON; files are named ``EXPERIMENT/FILE`` so names stay unique."""
    from temnet_app.core.annotations import write_coco_json, write_via_csv

    annotated = project.annotated_micrograph_ids()
    wanted = annotated if micrograph_ids is None else annotated & set(micrograph_ids)
    if not wanted:
        raise ProjectError("no manually annotated micrographs to export")
    names = {e.id: e.name for e in project.experiments()}
    boxes, sizes = {}, {}
    for m in project.micrographs():
        if m.id in wanted:
            key = f"{names[m.experiment_id]}/{m.name}"
            boxes[key] = project.manual_boxes(m.id)
            sizes[key] = (m.width, m.height)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    via = out / f"{_stem(project)}_manual_boxes_via.csv"
    coco = out / f"{_stem(project)}_manual_boxes_coco.json"
    write_via_csv(via, boxes, project.scheme)
    write_coco_json(coco, boxes, sizes, project.scheme)
    return {"via": via, "coco": coco}


def export_overlays(project, out_dir, micrograph_ids: Sequence[int], threshold: float,
                    progress: Optional[ProgressFn] = None,
                    cancel: Optional[CancelToken] = None) -> dict[str, Path]:
    """A PNG per micrograph: detections at ``threshold`` (solid) and manual boxes (dashed), with
    a caption naming the file, model, threshold and scale; ``{file name: path}``.
    Micrographs whose image cannot be read are left out."""
    from temnet_app.core.micrographs import read_micrograph
    from temnet_app.core.reports import write_overlay

    progress = progress or no_progress
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = project.latest_runs()
    names = {e.id: e.name for e in project.experiments()}
    written: dict[str, Path] = {}
    ids = list(micrograph_ids)
    for i, mid in enumerate(ids):
        check_cancel(cancel)
        m = project.micrograph(mid)
        progress(i / max(1, len(ids)), f"overlay of {m.name}")
        try:
            pixels = read_micrograph(project.image_path(m)).pixels
        except (MicrographError, ProjectError, OSError):
            continue
        run = project.run(runs[mid]) if mid in runs else None
        detections = project.detections(run.id, mid, threshold) if run else []
        manual = project.manual_boxes(mid)
        scale = project.scale(m)
        made_by = f"model {run.model_id} (run #{run.id})" if run else "not detected"
        caption = (f"{names[m.experiment_id]} / {m.name}   ·   {made_by}   ·   confidence >= "
                   f"{threshold:.2f}   ·   {scale.pixel_size_nm:.3f} nm/px, "
                   f"{scale.magnification:,.0f}x   ·   solid: detections, dashed: manual")
        target = out / (re.sub(r"[^\w.-]+", "_", f"{names[m.experiment_id]}_{Path(m.name).stem}")
                        + "_overlay.png")
        written[m.name] = write_overlay(target, pixels, project.scheme, detections, manual,
                                        caption, max_side=OVERLAY_MAX_SIDE)
    progress(1.0, f"{len(written)} overlay(s) written")
    return written


def export_all(project, out_dir, threshold: float, kinds: Sequence[str],
               micrograph_ids: Sequence[int] = (), progress: Optional[ProgressFn] = None,
               cancel: Optional[CancelToken] = None) -> dict[str, Path]:
    """Every export of ``kinds`` (see :data:`EXPORT_KINDS`) into ``out_dir``; overlays of
    ``micrograph_ids``. Returns ``{label: path}`` of every file written."""
    progress = progress or no_progress
    kinds = [k for k in EXPORT_KINDS if k in set(kinds)]
    if not kinds:
        raise ProjectError("choose at least one thing to export")
    written: dict[str, Path] = {}
    for i, kind in enumerate(kinds):
        step = scaled(progress, i / len(kinds), (i + 1) / len(kinds))
        check_cancel(cancel)
        if kind == "report":
            written.update(export_report(project, out_dir, threshold, progress=step,
                                         cancel=cancel))
        elif kind == "annotations":
            step(0.0, "manual annotations")
            written.update(export_annotations(project, out_dir))
        elif kind == "overlays":
            overlays = export_overlays(project, out_dir, micrograph_ids, threshold, step, cancel)
            written.update({f"overlay {k}": v for k, v in overlays.items()})
    progress(1.0, f"exported {len(written)} file(s) to {out_dir}")
    return written
