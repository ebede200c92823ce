"""Training plans and the project's models (jobs.training): the command a plan runs, defaults,
the time estimate, the checkpoint state the window reads, the model list, and which reviewed
micrographs no model trained on."""

import json
import math
import shlex
import shutil

import numpy as np
import pytest
import tifffile

from temnet_app.cli import build_parser
from temnet_app.core.boxes import Box
from temnet_app.core.errors import ModelError
from temnet_app.core.locations import model_folder
from temnet_app.core.project import Project
from temnet_app.jobs import (TrainingPlan, can_resume, default_epochs, default_model_dir,
                             estimate_seconds, project_models, read_training_state,
                             register_model, untouched_micrographs)


def test_plan_command_is_what_the_cli_parses(tmp_path):
    plan = TrainingPlan(project=tmp_path / "my lab.temnet", out=tmp_path / "models" / "m1",
                        init=default_model_dir(), epochs=6, experiments=("WT", "IN D116N"),
                        reviewed_only=True, validation_fraction=0.25, steps_per_epoch=10,
                        val_map_every=2, name="m1")
    command = plan.command()
    assert command.startswith("temnet train --data ")
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert args.data == [tmp_path / "my lab.temnet"] and args.out == plan.out
    assert args.experiment == ["WT", "IN D116N"] and args.reviewed_only
    assert (args.epochs, args.steps_per_epoch, args.val_map_every) == (6, 10, 2)
    assert args.init == default_model_dir() and args.validation_fraction == 0.25
    assert plan.argv()[1:3] == ["-m", "temnet_app"]
    resumed = TrainingPlan(project=plan.project, out=plan.out, init=None, epochs=6, resume=True)
    assert resumed.command().endswith("--resume") and "--init" not in resumed.command()


def test_default_epochs_and_estimate():
    assert default_epochs(1, True) == 15 and default_epochs(6, True) == 8
    assert default_epochs(100, True) == 4
    assert default_epochs(5, False) == 60 and default_epochs(100, False) == 20
    small = estimate_seconds(6, 8, 0.2, cores=2)
    assert estimate_seconds(12, 8, 0.2, cores=2) > small > 20
    assert estimate_seconds(6, 8, 0.2, cores=8) < small
    assert estimate_seconds(6, 8, 0.2, steps_per_epoch=5, cores=2) < small
    # validations are thinned like the trainer's automatic plan: 20 more epochs add their
    # training and 20 // every validations, not one validation each
    from temnet_app.jobs import training as t

    step = t.SECONDS_PER_STEP_2_CORES                       # 2 cores
    n_val, n_train = 1, 5                                   # round(6 * 0.2) = 1
    training = math.ceil(n_train * t.CROPS_PER_MICROGRAPH / 4) * step
    validating = n_val * t.CROPS_PER_MICROGRAPH / 4 * step / 3 + \
        n_val * t.SECONDS_PER_VALIDATION_MICROGRAPH
    every = math.ceil(9 * validating / training)
    assert every > 1
    one, two = estimate_seconds(6, 20, 0.2, cores=2), estimate_seconds(6, 40, 0.2, cores=2)
    assert two - one == pytest.approx(20 * training + (38 // every - 18 // every) * validating)
    assert two - one < 20 * (training + validating)         # what validating each epoch costs


def test_training_state_is_read_from_the_checkpoint(tmp_path):
    out = tmp_path / "model"
    assert read_training_state(out) is None and not can_resume(out)
    (out / "checkpoint").mkdir(parents=True)
    history = [{"epoch": 1, "train": {"total": 2.0}, "validation": {"total": 1.5},
                "val_map": 0.5},
               {"epoch": 2, "train": {"total": 1.0}, "validation": {"total": 1.2}}]
    (out / "checkpoint" / "state.json").write_text(json.dumps(
        {"epoch": 2, "finished": False, "settings": {"epochs": 5}, "history": history}))
    state = read_training_state(out)
    assert (state.epoch, state.epochs, state.finished) == (2, 5, False)
    assert state.train_loss == [2.0, 1.0] and state.val_loss == [1.5, 1.2]
    assert state.val_map == [(1, 0.5)] and can_resume(out)
    (out / "checkpoint" / "state.json").write_text("{half written")
    assert read_training_state(out) is None


@pytest.fixture
def project(tmp_path):
    for name in ("WT", "KO"):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(2):
            tifffile.imwrite(folder / f"m{i}.tif", np.full((40, 40), 60 + i + len(name),
                                                           np.uint8))
    with Project.create(tmp_path / "p.temnet") as proj:
        proj.add_folder(tmp_path / "WT")
        proj.add_folder(tmp_path / "KO")
        yield proj


def fake_model(tmp_path, name, train_keys):
    folder = tmp_path / name
    shutil.copytree(default_model_dir(), folder)
    card = json.loads((folder / "model_card.json").read_text())
    card["name"] = name
    card["training_data"] = {"split": {"train": list(train_keys), "validation": []}}
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


def test_models_of_the_project_and_untouched_micrographs(project, tmp_path):
    shipped = [default_model_dir(), model_folder("temnet-gn-synthetic"),
               model_folder("temnet-gn-fast")]
    assert project_models(project) == shipped
    trained = fake_model(tmp_path, "lab-1", ["WT/WT/m0.tif", "p/KO/KO/m1.tif"])
    register_model(project, trained)
    register_model(project, trained)                      # once only
    assert project_models(project) == [*shipped, trained.resolve()]
    with pytest.raises(ModelError):
        register_model(project, tmp_path / "WT")           # no model card there
    ids = [m.id for m in project.micrographs()]
    names = {m.id: m.path for m in project.micrographs()}
    keep = untouched_micrographs(project, ids, project_models(project))
    assert [names[i] for i in keep] == ["WT/m1.tif", "KO/m0.tif"]


def test_read_project_chooses_experiments_and_reviewed(project):
    from temnet_app.core.errors import ProjectError
    from temnet_app.detector.data import read_project

    for m in project.micrographs():
        project.set_manual_boxes(m.id, [Box(2, 2, 20, 20, 2)])
    first = project.micrographs()[0]
    project.set_reviewed(first.id)
    assert len(read_project(project)) == 4
    assert [m.key for m in read_project(project, experiments=["ko"])] == \
        ["KO/KO/m0.tif", "KO/KO/m1.tif"]
    assert [m.key for m in read_project(project, reviewed_only=True)] == ["WT/WT/m0.tif"]
    with pytest.raises(ProjectError, match="no experiment named 'X'"):
        read_project(project, experiments=["X"])
    with pytest.raises(ProjectError, match="no reviewed micrographs"):
        read_project(project, experiments=["KO"], reviewed_only=True)
