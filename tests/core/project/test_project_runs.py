"""Project data: class names, manual boxes and counts, detection runs and detections, and two
users of one project file at once (temnet_app.core.project: meta, manual, runs)."""

import threading

import numpy as np
import pytest
import tifffile

from temnet_app.core.boxes import DEFAULT_CLASS_NAMES, Box, ClassScheme, Detection
from temnet_app.core.errors import ProjectError
from temnet_app.core.project import Project


@pytest.fixture
def setup(tmp_path):
    """A project with one experiment of three micrographs; yields (project, micrographs)."""
    folder = tmp_path / "WT"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        tifffile.imwrite(folder / f"m{i}.tif", rng.integers(60, 190, (40, 40), dtype=np.uint8))
    with Project.create(tmp_path / "p.temnet") as proj:
        yield proj, proj.add_folder(folder).added


def test_class_names_default_and_change(setup):
    project, (m0, m1, _) = setup
    assert project.class_names == DEFAULT_CLASS_NAMES == ("eccentric", "mature", "immature")
    assert project.scheme.name(2) == "mature"
    project.set_manual_boxes(m0.id, [Box(0, 0, 5, 5, 2)])
    with pytest.raises(ProjectError, match="unique"):
        project.set_classes(["a", "a"])
    project.set_classes(["round", "mature"])
    with pytest.raises(ProjectError, match="class id 3 is not one of"):
        project.set_manual_boxes(m1.id, [Box(0, 0, 5, 5, 3)])
    with pytest.raises(ProjectError, match="class id 2; 1 class names are not enough"):
        project.set_classes(["only"])
    project.set_manual_counts(m1.id, {"round": 1})
    with pytest.raises(ProjectError, match="manual counts use class 'round'"):
        project.set_classes(["mature", "other"])
    project.set_classes(["Round", "Mature"])  # a change of case keeps the counts
    assert project.manual_counts(m1.id) == {"Round": 1}
    project.set_classes(["round", "mature"])
    path = project.path
    project.close()
    with Project.open(path) as again:
        assert again.class_names == ("round", "mature")
        assert again.scheme.colours == ("#2ca02c", "#f2c500")  # palette, then mature's own
        again.set_classes(ClassScheme(("round", "mature", "budding"), ("#123456",)))
    with Project.open(path) as again:  # the class set, colours too, is stored in the file
        assert again.scheme == ClassScheme(("round", "mature", "budding"),
                                           ("#123456", "#f2c500", "#2ca02c"))


def test_manual_boxes_replace_mark_and_clear(setup):
    project, (m0, m1, m2) = setup
    boxes = [Box(10.5, 20, 30, 44.25, 2), Box(1, 1, 2, 2, 1)]
    project.set_manual_boxes(m0.id, boxes)
    assert project.manual_boxes(m0.id) == boxes
    project.set_manual_boxes(m0.id, boxes[1:])
    assert project.manual_boxes(m0.id) == boxes[1:]
    project.set_manual_boxes(m1.id, [])  # annotated, no virions
    assert project.manual_boxes(m1.id) == [] and project.manual_boxes(m2.id) == []
    assert project.annotated_micrograph_ids() == {m0.id, m1.id}
    assert project.annotated_micrograph_ids(m0.experiment_id) == {m0.id, m1.id}
    project.clear_manual_boxes(m0.id)
    assert project.manual_boxes(m0.id) == [] and project.annotated_micrograph_ids() == {m1.id}
    with pytest.raises(ProjectError, match="no micrograph with id 77"):
        project.set_manual_boxes(77, boxes)
    with pytest.raises(ProjectError, match="no micrograph with id 77"):
        project.manual_boxes(77)
    with pytest.raises(ProjectError, match="expected boxes"):
        project.set_manual_boxes(m0.id, [(1, 2, 3, 4, 1)])


def test_manual_counts(setup):
    project, (m0, m1, _) = setup
    project.set_manual_counts(m0.id, {"Immature": 3, "MATURE": 12.0, "eccentric": 0})
    assert project.manual_counts(m0.id) == {"eccentric": 0, "mature": 12, "immature": 3}
    assert list(project.manual_counts(m0.id)) == ["eccentric", "mature", "immature"]
    project.set_manual_counts(m0.id, {"mature": 4})
    assert project.manual_counts(m0.id) == {"mature": 4}
    project.set_manual_counts(m0.id, None)
    assert project.manual_counts(m0.id) is None
    for bad, message in [({"virus": 1}, "unknown class 'virus'"),
                         ({"mature": -1}, "whole number from 0"),
                         ({"mature": 2.5}, "whole number from 0"),
                         ({"mature": 1, "Mature": 2}, "given twice")]:
        with pytest.raises(ProjectError, match=message):
            project.set_manual_counts(m1.id, bad)
    assert project.manual_counts(m1.id) is None


def test_runs_and_detections(setup):
    project, (m0, m1, m2) = setup
    assert project.latest_run() is None
    run = project.start_run("temnet-gn 1.0", {"windows": [1024, 1024], "nms": 0.3}, 0.1)
    assert (run.status, run.finished, run.score_floor) == ("running", None, 0.1)
    dets = [Detection(0, 0, 10, 10, 2, 0.35), Detection(5, 5, 20, 20, 3, 0.95),
            Detection(1, 1, 8, 8, 1, 0.05), Detection(2, 2, 9, 9, 2, 0.35),
            Detection(3, 3, 30, 30, 2, 0.6)]
    project.store_detections(run.id, m0.id, dets)
    # best first; the 0.05 detection is below the run's floor and not stored; ties keep order
    assert project.detections(run.id, m0.id) == [dets[1], dets[4], dets[0], dets[3]]
    assert project.detections(run.id, m0.id, min_score=0.6) == [dets[1], dets[4]]
    xyxy, ids, scores = project.detection_arrays(run.id, m0.id, min_score=0.35)
    assert xyxy.shape == (4, 4) and xyxy[0].tolist() == [5, 5, 20, 20]
    assert ids.tolist() == [3, 2, 2, 2] and scores.tolist() == [0.95, 0.6, 0.35, 0.35]
    empty = project.detection_arrays(run.id, m1.id)
    assert empty[0].shape == (0, 4) and empty[1].shape == (0,)
    project.store_detections(run.id, m1.id, [])  # processed, nothing found
    assert project.detected_micrograph_ids(run.id) == {m0.id, m1.id}
    assert project.detection_counts(run.id) == {
        m0.id: {"eccentric": 0, "mature": 3, "immature": 1},
        m1.id: {"eccentric": 0, "mature": 0, "immature": 0}}
    assert project.detection_counts(run.id, min_score=0.5) == {
        m0.id: {"eccentric": 0, "mature": 1, "immature": 1},
        m1.id: {"eccentric": 0, "mature": 0, "immature": 0}}
    assert project.detection_counts(run.id, experiment_id=m0.experiment_id + 1) == {}

    project.store_detections(run.id, m0.id, dets[:1])  # replaces, does not add
    assert project.detections(run.id, m0.id) == [dets[0]]

    newer = project.start_run("temnet-gn 1.0", {}, 0.0)
    assert project.latest_run() == run  # the newer run has nothing stored yet
    project.store_detections(newer.id, m2.id, dets)
    assert project.latest_run() == newer
    assert project.detections(newer.id, m2.id)[-1] == dets[2]  # floor 0: all stored
    assert project.detections(run.id, m2.id) == []  # not processed in the first run

    done = project.finish_run(run.id, "cancelled")
    assert done.status == "cancelled" and done.finished is not None
    assert project.finish_run(run.id, "running").finished is None
    assert [r.id for r in project.runs()] == [run.id, newer.id]
    with pytest.raises(ProjectError, match="unknown run status 'done'"):
        project.finish_run(run.id, "done")
    with pytest.raises(ProjectError, match="no detection run with id 99"):
        project.detections(99, m0.id)
    with pytest.raises(ProjectError, match="class id 4"):
        project.store_detections(run.id, m0.id, [Detection(0, 0, 1, 1, 4, 0.5)])
    with pytest.raises(ProjectError, match="expected Detection"):
        project.store_detections(run.id, m0.id, [Box(0, 0, 1, 1, 1)])


def test_run_arguments_are_checked(setup):
    project, _ = setup
    with pytest.raises(ProjectError, match="JSON"):
        project.start_run("m", {"weights": {1, 2}}, 0.1)
    with pytest.raises(ProjectError, match="JSON"):
        project.start_run("m", {"nms": float("nan")}, 0.1)
    for floor in (1.5, -0.1, float("nan"), "low"):
        with pytest.raises(ProjectError, match=r"score floor must be in \[0, 1\]"):
            project.start_run("m", {}, floor)
    with pytest.raises(ProjectError, match="model id"):
        project.start_run(" ", {}, 0.1)
    assert project.runs() == []


def test_two_project_objects_share_the_file(setup):
    project, micrographs = setup
    other = Project.open(project.path)
    try:
        run = project.start_run("m", {}, 0.0)
        assert other.run(run.id) == run
        errors = []

        def writer(proj, label, class_id):
            try:
                for i in range(25):
                    mid = micrographs[i % 3].id
                    proj.store_detections(run.id, mid, [Detection(0, 0, 5 + i, 5, class_id, 0.5)])
                    proj.add_experiment(f"{label} {i}")
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(project, "a", 1)),
                   threading.Thread(target=writer, args=(other, "b", 2)),
                   threading.Thread(target=writer, args=(project, "c", 3))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert len(other.experiments()) == len(project.experiments()) == 76
        for m in micrographs:  # each store replaced the previous one: exactly one box left
            assert len(project.detections(run.id, m.id)) == 1
    finally:
        other.close()
