"""DetectionIndex and Project.latest_scores: counts at a threshold from the newest run of each
micrograph, known answers."""

import numpy as np
import pytest
import tifffile

from temnet_app.core.analysis import DetectionIndex
from temnet_app.core.boxes import Detection
from temnet_app.core.errors import ProjectError
from temnet_app.core.project import Project


def det(class_id, score):
    return Detection(10, 10, 50, 50, class_id, score)


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "WT"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        tifffile.imwrite(folder / f"m{i}.tif", rng.integers(60, 190, (40, 40), dtype=np.uint8))
    with Project.create(tmp_path / "p.temnet") as proj:
        proj.add_folder(folder)
        yield proj


def test_latest_scores_takes_the_newest_run_per_micrograph(project):
    a, b, c = (m.id for m in project.micrographs())
    old = project.start_run("m", {}, 0.05)
    project.store_detections(old.id, a, [det(1, 0.9), det(2, 0.4)])
    project.store_detections(old.id, b, [det(3, 0.8)])
    new = project.start_run("m", {}, 0.05)
    project.store_detections(new.id, a, [det(2, 0.7)])
    runs, rows = project.latest_scores()
    assert runs == {a: new.id, b: old.id}
    assert rows.tolist() == [[a, 2, 0.7], [b, 3, 0.8]]
    assert project.latest_runs() == {a: new.id, b: old.id}
    runs, rows = project.latest_scores([b, c])
    assert runs == {b: old.id} and rows.tolist() == [[b, 3, 0.8]]
    assert project.latest_scores([]) == ({}, pytest.approx(np.zeros((0, 3))))


def test_counts_at_thresholds_known_answer(project):
    a, b, c = (m.id for m in project.micrographs())
    run = project.start_run("m", {}, 0.05)
    project.store_detections(run.id, a, [det(1, 0.95), det(2, 0.5), det(2, 0.49), det(3, 0.1)])
    project.store_detections(run.id, b, [])
    index = DetectionIndex.from_project(project)
    assert len(index) == 4 and index.detected_ids == {a, b}
    assert index.detected(b) and not index.detected(c) and index.run_of(a) == run.id
    assert index.counts_of(a, 0.5).tolist() == [1, 1, 0]  # score >= threshold counts
    assert index.counts_of(a, 0.0).tolist() == [1, 2, 1]
    assert index.counts_of(a, 0.96).tolist() == [0, 0, 0]
    assert index.counts_of(b, 0.0).tolist() == [0, 0, 0]
    assert index.counts_of(c, 0.0) is None
    assert index.total([a, b, c], 0.3).tolist() == [1, 2, 0]
    assert index.total([c], 0.3) is None


def test_refresh_of_some_micrographs_replaces_only_them(project):
    a, b, c = (m.id for m in project.micrographs())
    run = project.start_run("m", {}, 0.05)
    project.store_detections(run.id, a, [det(1, 0.9)])
    project.store_detections(run.id, b, [det(2, 0.9)])
    index = DetectionIndex.from_project(project)
    assert index.counts(0.5)[a].tolist() == [1, 0, 0]
    project.store_detections(run.id, a, [det(3, 0.9), det(3, 0.8)])
    project.store_detections(run.id, c, [det(1, 0.2)])
    index.refresh(project, [a, c])
    counts = index.counts(0.5)
    assert counts[a].tolist() == [0, 0, 2] and counts[b].tolist() == [0, 1, 0]
    assert counts[c].tolist() == [0, 0, 0] and index.counts_of(c, 0.1).tolist() == [1, 0, 0]
    project.remove_micrograph(b)
    index.refresh(project, [b])
    assert not index.detected(b) and index.counts_of(b, 0.0) is None and len(index) == 3


def test_save_copy_is_a_complete_project(project, tmp_path):
    a = project.micrographs()[0].id
    run = project.start_run("m", {}, 0.05)
    project.store_detections(run.id, a, [det(1, 0.9)])
    (tmp_path / "elsewhere").mkdir()
    copy = project.save_copy(tmp_path / "elsewhere" / "copy.temnet")
    with Project.open(copy) as other:
        assert [m.name for m in other.micrographs()] == [m.name for m in project.micrographs()]
        assert other.detections(run.id, a) == [det(1, 0.9)]
        assert other.image_path(a).name == "m0.tif"
    with pytest.raises(ProjectError, match="must end in"):
        project.save_copy(tmp_path / "copy.db")
    with pytest.raises(ProjectError, match="open project"):
        project.save_copy(project.path)


def test_statistics_in_newest_mode_count_what_the_window_counts(project):
    from temnet_app.core.analysis import compute_statistics, load_statistics_input

    a, b, c = (m.id for m in project.micrographs())
    old = project.start_run("m", {}, 0.05)
    project.store_detections(old.id, a, [det(1, 0.9), det(2, 0.8)])
    project.store_detections(old.id, b, [det(3, 0.8)])
    new = project.start_run("m", {}, 0.05)
    project.store_detections(new.id, a, [det(2, 0.7)])
    stats = compute_statistics(load_statistics_input(project, "newest"), 0.5)
    table = stats.per_micrograph[stats.per_micrograph["source"] == "predicted"]
    counts = {int(r.micrograph_id): (int(r.n_eccentric), int(r.n_mature), int(r.n_immature))
              for r in table.itertuples()}
    index = DetectionIndex.from_project(project)
    assert counts == {mid: tuple(int(v) for v in index.counts_of(mid, 0.5)) for mid in (a, b)}
    assert stats.run.id == new.id and stats.data.run_ids == (old.id, new.id)
    assert any("newest run" in note for note in stats.notes)
    latest_only = compute_statistics(load_statistics_input(project), 0.5)
    assert set(latest_only.per_micrograph["micrograph_id"]) == {a}
