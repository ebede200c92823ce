"""A project takes the classes of the model that detects in it, when it can."""

import numpy as np
import pytest
import tifffile
from test_jobs import FakeDetector

from temnet_app.core.boxes import Box
from temnet_app.core.classes import DEFAULT_SCHEME, ClassScheme
from temnet_app.core.errors import ProjectError
from temnet_app.core.project import Project
from temnet_app.jobs import run_detection
from temnet_app.jobs.classes import adopt_model_classes

LAB = ClassScheme(("RiftValley", "Ebola", "Marburg", "Lassa"),
                  ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3"))


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    for i in range(2):
        tifffile.imwrite(folder / f"m{i}.tif", np.full((48, 64), 60 + 40 * i, np.uint8))
    with Project.create(tmp_path / "p.temnet") as proj:
        proj.add_folder(folder)
        yield proj


def test_a_project_without_boxes_takes_the_models_classes_and_colours(project):
    detector = FakeDetector()
    detector.scheme = LAB
    summary = run_detection(project, project.micrographs(), detector)
    assert summary.status == "complete"
    assert project.scheme == LAB
    # the fake's class ids 2 and 3 are stored under the model's names
    names = {LAB.name(d.class_id) for m in project.micrographs()
             for d in project.detections(summary.run_id, m.id)}
    assert names == {"Ebola", "Marburg"}


def test_same_classes_keep_the_projects_colours(project):
    project.set_classes(ClassScheme(DEFAULT_SCHEME.names, ("#000000",)))
    assert not adopt_model_classes(project, DEFAULT_SCHEME)
    assert project.scheme.colour(1) == "#000000"


def test_a_model_with_more_classes_extends_a_project_in_use(project):
    m = project.micrographs()[0]
    project.set_manual_boxes(m.id, [Box(0, 0, 9, 9, 2)])
    model = ClassScheme(DEFAULT_SCHEME.names + ("budding",))
    assert adopt_model_classes(project, model)
    assert project.class_names == ("eccentric", "mature", "immature", "budding")
    assert project.manual_boxes(m.id)[0].class_id == 2


def test_other_classes_than_the_boxes_use_are_refused_and_nothing_changes(project):
    m = project.micrographs()[0]
    project.set_manual_boxes(m.id, [Box(0, 0, 9, 9, 2)])
    detector = FakeDetector(model_id="lab@1")
    detector.scheme = LAB
    with pytest.raises(ProjectError, match=r"lab@1 detects RiftValley, Ebola, Marburg, Lassa, "
                                           r"but this project's boxes and counts use eccentric"):
        run_detection(project, project.micrographs(), detector)
    assert project.scheme == DEFAULT_SCHEME and not project.runs()
