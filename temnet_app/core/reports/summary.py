"""A plain-text summary of a project, for the CLI (``temnet info``) and logs."""

from __future__ import annotations

from temnet_app.core.boxes import count_by_class
from temnet_app.core.project import Project


def project_summary(project: Project) -> str:
    """Experiments with their micrographs, manual counts per class, and the detection runs."""
    names = project.scheme.names
    lines = [f"TEMNet project {project.path}"]
    experiments = project.experiments()
    if not experiments:
        lines.append("  (no experiments yet: add a folder of micrographs)")
    for experiment in experiments:
        micrographs = project.micrographs(experiment.id)
        totals = dict.fromkeys(names, 0)
        annotated = 0
        for micrograph in micrographs:
            boxes = project.manual_boxes(micrograph.id)
            counts = project.manual_counts(micrograph.id) or (
                count_by_class(boxes, project.scheme) if boxes else None)
            if counts:
                annotated += 1
                for name in names:
                    totals[name] += int(counts.get(name, 0))
        mag = f"{experiment.magnification:,.0f}x" if experiment.magnification else "default mag."
        lines.append(f"  {experiment.name}: {len(micrographs)} micrographs, {mag}")
        if annotated:
            shown = ", ".join(f"{name} {totals[name]}" for name in names)
            lines.append(f"    manual ({annotated} micrographs): {shown}")
    runs = project.runs()
    lines.append(f"  detection runs: {len(runs)}")
    for run in runs:
        done = len(project.detected_micrograph_ids(run.id))
        status = f"{run.status} ({run.owner})" if run.owner else run.status
        lines.append(f"    #{run.id} {run.model_id} {status}, {done} micrographs, "
                     f"{run.created}")
    return "\n".join(lines)
