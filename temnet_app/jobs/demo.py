"""The embedded demo project: 3 experiments x 3 simulated micrographs with manual annotations.

Generated deterministically (fixed seeds) the first time the app starts without a project, so a
new user opens on something that looks like real data. The project is built in a temporary folder
beside the target and moved into place at the end, so an interrupted build leaves nothing half-made.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Optional

from temnet_app.core.annotations import read_via_csv
from temnet_app.core.errors import ProjectError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress
from temnet_app.core.project import Project

# (experiment name, simulator preset, condition notes, seed)
DEMO_EXPERIMENTS: tuple[tuple[str, str, str, int], ...] = (
    ("WT NL4-3", "WT", "Wild type HIV-1 NL4-3 (simulated): mostly mature virions.", 1101),
    ("PR D25A", "PR-D25A", "Protease active-site mutant (simulated): immature virions.", 2202),
    ("IN N184L", "IN-N184L", "Class II integrase mutant (simulated): mostly eccentric virions.",
     3303),
)
MICROGRAPHS_PER_EXPERIMENT = 3
DEMO_MAGNIFICATION = 30000.0


def build_demo_project(project_path: Path, *, progress: Optional[ProgressFn] = None,
                       cancel: Optional[CancelToken] = None) -> Path:
    """Create the demo project at ``project_path`` (a ``.temnet`` file) unless it exists.

    Images go into one folder per experiment beside the project file. Returns the project path.
    """
    from temnet_app.simulator import simulate_set  # numpy/scipy-heavy: only when building

    progress = progress or no_progress
    project_path = Path(project_path)
    if project_path.suffix != ".temnet":
        raise ProjectError(f"demo project file must end in .temnet: {project_path}")
    if project_path.exists():
        return project_path
    final_folder = project_path.parent
    final_folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=final_folder))
    try:
        staged_project = staging / project_path.name
        total = len(DEMO_EXPERIMENTS)
        with Project.create(staged_project) as project:
            for i, (name, preset, notes, seed) in enumerate(DEMO_EXPERIMENTS):
                check_cancel(cancel)
                progress(i / total, f"simulating {name}")
                folder = staging / name
                simulate_set(folder, MICROGRAPHS_PER_EXPERIMENT, preset, DEMO_MAGNIFICATION, seed,
                             info_band=True)
                truth = read_via_csv(folder / "annotations.csv")
                result = project.add_folder(folder, name=name, magnification=DEMO_MAGNIFICATION)
                project.update_experiment(result.experiment.id, notes=notes)
                for micrograph in result.added:
                    project.set_manual_boxes(micrograph.id, truth.get(micrograph.name, []))
        for child in staging.iterdir():
            destination = final_folder / child.name
            if destination.exists():
                raise ProjectError(f"cannot create the demo project: {destination} already exists")
        for child in sorted(staging.iterdir(), key=lambda p: p.suffix == ".temnet"):
            child.rename(final_folder / child.name)  # the project file moves last
        progress(1.0, "demo project ready")
        return project_path
    finally:
        shutil.rmtree(staging, ignore_errors=True)
