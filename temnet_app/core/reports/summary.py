"""A plain-text summary of a project, for the CLI (``temnet info``) and logs."""

from __future__ import annotations

from temnet_app.core.boxes import count_by_class
from temnet_app.core.project import Project


def project_summary(project: Project, each_micrograph: bool = False) -> str:
    """Experiments with their micrographs and the scales they are analysed at, manual counts
    per class, and the detection runs; ``each_micrograph`` lists every micrograph with its
    pixel size and magnification and where each came from."""
    names = project.scheme.names
    camera = project.camera_calibration()
    camera_text = camera.describe() if camera else \
        "the reference, 0.561 nm/px at 30,000x (JEOL 1200EX + AMT 2k)"
    lines = [f"TEMNet project {project.path}", f"  camera calibration: {camera_text}",
             f"  classes: {project.scheme.spec().replace(',', ', ')}"]
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
        setting = [f"{experiment.pixel_size_nm:g} nm/px"] if experiment.pixel_size_nm else []
        setting += [f"{experiment.magnification:,.0f}x"] if experiment.magnification else []
        lines.append(f"  {experiment.name}: {len(micrographs)} micrographs, setting: "
                     f"{', '.join(setting) or 'none'}")
        scales = [project.scale(m) for m in micrographs]
        groups: dict[tuple, int] = {}
        for scale in scales:
            key = (round(scale.pixel_size_nm, 4), scale.origin())
            groups[key] = groups.get(key, 0) + 1
        for (size, origin), n in sorted(groups.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {size:.3f} nm/px: {n} micrograph{'s' if n != 1 else ''} "
                         f"({origin})")
        if each_micrograph:
            for micrograph, scale in zip(micrographs, scales):
                lines.append(f"      {micrograph.name}: {micrograph.width}x{micrograph.height} "
                             f"px, {scale.describe()}")
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
