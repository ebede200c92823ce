"""Project file: create / reopen, experiments, adding folders and files, moved projects,
change events and cascades (temnet_app.core.project.project)."""

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import tifffile

from temnet_app.core.boxes import Box, Detection
from temnet_app.core.errors import ProjectError
from temnet_app.core.project import PROJECT_SUFFIX, SCHEMA_VERSION, ChangeEvent, Project


def write_tif(path: Path, seed: int, shape=(48, 64), description=None) -> Path:
    """A small 8-bit noise micrograph (mid-grey, no info band)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(60, 190, size=shape, dtype=np.uint8)
    tifffile.imwrite(path, pixels, description=description)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count_rows(project_path: Path, table: str) -> int:
    with sqlite3.connect(project_path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "lab project é" / "study.temnet") as proj:
        yield proj


def test_create_close_reopen_keeps_everything(tmp_path):
    folder = tmp_path / "data ü"
    for i in range(2):
        write_tif(folder / "WT" / f"wt_{i}.tif", seed=i, description="Direct Mag: 25000x")
    path = tmp_path / "my projects" / "Ünïcode study.temnet"
    with Project.create(path) as proj:
        result = proj.add_folder(folder / "WT", magnification=20000)
        first, second = result.added
        other = proj.add_experiment("PR D25A", notes="protease mutant", magnification=30000)
        proj.set_manual_boxes(first.id, [Box(1, 2, 30, 40, 2), Box(5, 5, 9, 9, 3)])
        proj.set_manual_counts(second.id, {"mature": 7, "immature": 1})
        proj.set_magnification_override(second.id, 40000)
        run = proj.start_run("temnet-1.0", {"tile": 1024, "nms": 0.3}, 0.05)
        proj.store_detections(run.id, first.id, [Detection(1, 1, 20, 20, 2, 0.9),
                                                 Detection(2, 2, 30, 30, 1, 0.4)])
        proj.finish_run(run.id, "complete")
        before = (proj.experiments(), proj.micrographs(), proj.runs())
    with Project.open(path) as proj:
        assert (proj.experiments(), proj.micrographs(), proj.runs()) == before
        assert proj.path == path and proj.folder == path.parent
        assert [e.name for e in proj.experiments()] == ["WT", "PR D25A"]
        assert proj.experiment(other.id).notes == "protease mutant"
        assert proj.manual_boxes(first.id) == [Box(1, 2, 30, 40, 2), Box(5, 5, 9, 9, 3)]
        assert proj.manual_counts(second.id) == {"mature": 7, "immature": 1}
        assert proj.manual_counts(first.id) is None
        assert proj.detections(run.id, first.id) == [Detection(1, 1, 20, 20, 2, 0.9),
                                                     Detection(2, 2, 30, 30, 1, 0.4)]
        assert proj.run(run.id).settings == {"tile": 1024, "nms": 0.3}
        assert proj.run(run.id).status == "complete" and proj.run(run.id).finished
        assert proj.magnification(second) == 40000.0
        assert proj.image_path(first) == folder / "WT" / "wt_0.tif"
        conn = proj._store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    # closing removed the write-ahead log: the project is one file again
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_create_requires_suffix_and_a_new_file(tmp_path):
    assert PROJECT_SUFFIX == ".temnet"
    with pytest.raises(ProjectError, match=r"must end in \.temnet"):
        Project.create(tmp_path / "study.db")
    Project.create(tmp_path / "study.temnet").close()
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(tmp_path / "study.temnet")
    assert not (tmp_path / "study.db").exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_new_project_file_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        Project.create(tmp_path / "group.temnet").close()
    finally:
        os.umask(old)
    assert (tmp_path / "group.temnet").stat().st_mode & 0o777 == 0o640


def test_closed_project_refuses_use(project):
    project.close()
    project.close()  # idempotent
    with pytest.raises(ProjectError, match="closed"):
        project.experiments()


def test_experiments_unique_names_update_and_lookup(project):
    wt = project.add_experiment("  WT   NL4-3 ", magnification=25000)
    assert wt.name == "WT NL4-3" and wt.magnification == 25000.0 and wt.notes == ""
    assert wt.created.endswith("+00:00")
    with pytest.raises(ProjectError, match="already exists"):
        project.add_experiment("wt nl4-3")
    with pytest.raises(ProjectError, match="empty"):
        project.add_experiment("   ")
    with pytest.raises(ProjectError, match="magnification"):
        project.add_experiment("IN", magnification=5)
    pr = project.add_experiment("PR")
    assert project.experiment_by_name("wt  nl4-3") == wt
    assert project.experiment_by_name("nothing") is None
    with pytest.raises(ProjectError, match="no experiment with id 99"):
        project.experiment(99)
    renamed = project.update_experiment(wt.id, name="WT", notes="wild type")
    assert (renamed.name, renamed.notes, renamed.magnification) == ("WT", "wild type", 25000.0)
    cleared = project.update_experiment(wt.id, magnification=None)
    assert cleared.magnification is None and cleared.notes == "wild type"
    with pytest.raises(ProjectError, match="already exists"):
        project.update_experiment(pr.id, name="wt")
    assert project.update_experiment(wt.id, name="wt").name == "wt"  # case change of itself
    assert [e.id for e in project.experiments()] == [wt.id, pr.id]


def test_add_folder_mixed_content(project, tmp_path):
    folder = tmp_path / "WT NL4-3"
    write_tif(folder / "m10.tif", 1, description="Direct Mag: 25000x")
    write_tif(folder / "m2.tif", 2)
    write_tif(folder / "M1.TIF", 3, shape=(40, 70))
    shutil.copy(folder / "m2.tif", folder / "m2 copy.tif")
    (folder / "broken.tif").write_bytes(b"this is not a TIFF file at all")
    (folder / "notes.txt").write_text("grid 3, block B")
    (folder / ".DS_Store").write_bytes(b"\0\1")
    write_tif(folder / "sub" / "inner.tif", 4)

    result = project.add_folder(folder)

    assert result.experiment.name == "WT NL4-3" and result.experiment.magnification is None
    assert [m.name for m in result.added] == ["M1.TIF", "m2.tif", "m10.tif"]
    assert [m.path for m in result.added] == [
        "../WT NL4-3/M1.TIF", "../WT NL4-3/m2.tif", "../WT NL4-3/m10.tif"]
    m1, m2, m10 = result.added
    assert (m1.width, m1.height) == (70, 40) and (m2.width, m2.height) == (64, 48)
    assert m10.checksum == sha256(folder / "m10.tif")
    assert m10.file_magnification == 25000.0 and m2.file_magnification is None
    assert m10.pixel_size_nm is None            # the file states a magnification only
    skipped = {path.name: reason for path, reason in result.skipped}
    assert set(skipped) == {"broken.tif", "m2 copy.tif", "notes.txt", "sub"}
    assert "broken.tif" in skipped["broken.tif"]
    assert skipped["m2 copy.tif"] == "same image as m2.tif"
    assert skipped["notes.txt"] == "not a micrograph image file"
    assert skipped["sub"].startswith("sub-folder")
    assert project.micrographs(result.experiment.id) == result.added

    again = project.add_folder(folder, magnification=30000)
    assert again.experiment.name == "WT NL4-3 (2)"
    assert again.experiment.magnification == 30000.0
    assert project.add_folder(folder, name="wt nl4-3").experiment.name == "wt nl4-3 (3)"
    assert len(project.micrographs()) == 9


def test_add_folder_without_usable_images_adds_nothing(project, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match="is empty"):
        project.add_folder(tmp_path / "empty")
    (tmp_path / "text" / "a.txt").parent.mkdir()
    (tmp_path / "text" / "a.txt").write_text("x")
    with pytest.raises(ProjectError, match="holds no micrograph images"):
        project.add_folder(tmp_path / "text")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.tif").write_bytes(b"junk")
    (tmp_path / "bad" / "b.png").write_bytes(b"junk")
    with pytest.raises(ProjectError, match="none of the 2 image files"):
        project.add_folder(tmp_path / "bad")
    with pytest.raises(ProjectError, match="not a folder"):
        project.add_folder(tmp_path / "missing")
    assert project.experiments() == []


def test_add_micrograph_rejects_the_same_file_twice(project, tmp_path):
    image = write_tif(tmp_path / "img" / "a.tif", 1)
    shutil.copy(image, tmp_path / "img" / "a_copy.tif")
    wt = project.add_experiment("WT")
    added = project.add_micrograph(wt.id, image)
    assert added.path == "../img/a.tif" and project.micrograph(added.id) == added
    with pytest.raises(ProjectError, match="already in experiment 'WT'"):
        project.add_micrograph(wt.id, image)
    with pytest.raises(ProjectError, match=r"already in experiment 'WT' \(as \.\./img/a\.tif\)"):
        project.add_micrograph(wt.id, tmp_path / "img" / "a_copy.tif")
    other = project.add_experiment("PR")
    assert project.add_micrograph(other.id, image).experiment_id == other.id
    with pytest.raises(ProjectError, match="no experiment with id 42"):
        project.add_micrograph(42, image)


def _project_with_images(root: Path) -> tuple[Path, list[str]]:
    """root/projects/study.temnet referring to root/data/WT/{a,b}.tif; returns names too."""
    for i, name in enumerate(["a.tif", "b.tif"]):
        write_tif(root / "data" / "WT" / name, 10 + i)
    path = root / "projects" / "study.temnet"
    with Project.create(path) as proj:
        proj.add_folder(root / "data" / "WT")
    return path, ["a.tif", "b.tif"]


def test_moved_project_folder_resolves_relative_paths(tmp_path):
    path, names = _project_with_images(tmp_path / "old")
    shutil.copytree(tmp_path / "old", tmp_path / "new place")
    shutil.rmtree(tmp_path / "old")
    with Project.open(tmp_path / "new place" / "projects" / "study.temnet") as proj:
        found = [proj.image_path(m) for m in proj.micrographs()]
    assert found == [tmp_path / "new place" / "data" / "WT" / n for n in names]


def test_moved_project_finds_images_by_fallback_and_checks_bytes(tmp_path):
    path, names = _project_with_images(tmp_path / "old")
    # the project file and the image folder copied side by side into one new folder
    new = tmp_path / "usb stick"
    new.mkdir()
    shutil.copy(path, new / "study.temnet")
    shutil.copytree(tmp_path / "old" / "data" / "WT", new / "WT")
    shutil.rmtree(tmp_path / "old")
    with Project.open(new / "study.temnet") as proj:
        a, b = proj.micrographs()
        assert proj.image_path(a) == new / "WT" / "a.tif"
        assert proj.image_path(b.id) == new / "WT" / "b.tif"
        # a different file with the right name is not trusted
        write_tif(new / "WT" / "b.tif", 99, shape=(48, 64))
        proj._micrographs._resolved.clear()
        with pytest.raises(ProjectError, match="micrograph file not found: b.tif"):
            proj.image_path(b)
        (new / "WT" / "a.tif").unlink()
        with pytest.raises(ProjectError, match="a.tif"):
            proj.image_path(a)


def test_moved_project_file_alone_uses_the_original_location(tmp_path):
    path, names = _project_with_images(tmp_path / "lab")
    moved = tmp_path / "elsewhere" / "deeper" / "study.temnet"
    moved.parent.mkdir(parents=True)
    shutil.move(path, moved)
    with Project.open(moved) as proj:
        found = [proj.image_path(m) for m in proj.micrographs()]
    assert found == [tmp_path / "lab" / "data" / "WT" / n for n in names]


def test_changed_image_at_its_path_is_reported(tmp_path):
    path, names = _project_with_images(tmp_path)
    write_tif(tmp_path / "data" / "WT" / "a.tif", 77, shape=(20, 20))
    with Project.open(path) as proj:
        with pytest.raises(ProjectError, match="a.tif has changed since it was added"):
            proj.image_path(proj.micrographs()[0])


def test_relink_micrograph_needs_the_same_bytes(project, tmp_path):
    image = write_tif(tmp_path / "a" / "x.tif", 5)
    other = write_tif(tmp_path / "a" / "y.tif", 6)
    micrograph = project.add_micrograph(project.add_experiment("E").id, image)
    moved = tmp_path / "b" / "x.tif"
    moved.parent.mkdir()
    shutil.move(image, moved)
    with pytest.raises(ProjectError, match="not the same file"):
        project.relink_micrograph(micrograph.id, other)
    assert project.relink_micrograph(micrograph.id, moved).path == "../b/x.tif"
    assert project.image_path(micrograph) == moved


def test_magnification_resolution_order(project, tmp_path):
    tagged = write_tif(tmp_path / "i" / "tagged.tif", 1, description="Direct Mag: 25000x")
    plain = write_tif(tmp_path / "i" / "plain.tif", 2)
    bare = project.add_experiment("no mag")
    exp = project.add_experiment("with mag", magnification=20000)
    m_tagged = project.add_micrograph(exp.id, tagged)
    m_plain = project.add_micrograph(exp.id, plain)
    m_default = project.add_micrograph(bare.id, plain)
    assert project.magnification(m_tagged) == 25000.0     # the file's own value
    assert project.magnification(m_plain) == 20000.0      # the experiment's
    assert project.magnification(m_default) == 30000.0    # the default
    project.set_magnification_override(m_tagged.id, 40000)
    assert project.magnification(m_tagged) == 40000.0     # stale record, fresh value
    assert project.micrograph(m_tagged.id).magnification_override == 40000.0
    project.set_magnification_override(m_tagged.id, None)
    assert project.magnification(m_tagged.id) == 25000.0
    with pytest.raises(ProjectError, match="magnification"):
        project.set_magnification_override(m_tagged.id, -3)


def test_change_events_fire_after_commit_only(project, tmp_path):
    events, seen_in_db = [], []

    def listener(event: ChangeEvent) -> None:
        events.append(event)
        # the change is committed and visible from another connection when the event arrives
        with sqlite3.connect(project.path) as other:
            seen_in_db.append(other.execute("SELECT count(*) FROM experiments").fetchone()[0])

    unsubscribe = project.subscribe(listener)
    wt = project.add_experiment("WT")
    assert events == [ChangeEvent("experiment", (wt.id,))] and seen_in_db == [1]
    micrograph = project.add_micrograph(wt.id, write_tif(tmp_path / "i" / "a.tif", 1))
    run = project.start_run("m", {}, 0.0)
    project.store_detections(run.id, micrograph.id, [Detection(1, 1, 5, 5, 1, 0.5)])
    assert events[-3:] == [ChangeEvent("micrograph", (micrograph.id,)),
                           ChangeEvent("run", (run.id,)),
                           ChangeEvent("detections", (micrograph.id,), run_id=run.id)]

    # failed writes (checked inside the transaction) send nothing
    del events[:]
    with pytest.raises(ProjectError):
        project.add_experiment("wt")
    with pytest.raises(ProjectError):
        project.store_detections(run.id, 999, [])
    assert events == []

    # a write failing half-way is rolled back: old detections kept, no event
    with sqlite3.connect(project.path) as raw:
        raw.execute("CREATE TRIGGER no_half AFTER INSERT ON detections WHEN new.score = 0.25 "
                    "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END")
    with pytest.raises(ProjectError, match="refused by test trigger"):
        project.store_detections(run.id, micrograph.id, [Detection(2, 2, 6, 6, 2, 0.75),
                                                         Detection(3, 3, 7, 7, 2, 0.25)])
    assert project.detections(run.id, micrograph.id) == [Detection(1, 1, 5, 5, 1, 0.5)]
    assert events == []

    unsubscribe()
    unsubscribe()
    project.add_experiment("PR")
    assert events == []


def test_a_failing_listener_does_not_undo_the_change(project, caplog):
    def broken(event):
        raise RuntimeError("listener bug")

    received = []
    project.subscribe(broken)
    project.subscribe(received.append)
    experiment = project.add_experiment("WT")
    assert project.experiment(experiment.id) == experiment
    assert [e.kind for e in received] == ["experiment"]
    assert "listener bug" in caplog.text


def test_removals_cascade(project, tmp_path):
    events = []
    project.subscribe(events.append)
    wt = project.add_experiment("WT")
    keep = project.add_experiment("keep")
    a = project.add_micrograph(wt.id, write_tif(tmp_path / "i" / "a.tif", 1))
    b = project.add_micrograph(wt.id, write_tif(tmp_path / "i" / "b.tif", 2))
    k = project.add_micrograph(keep.id, write_tif(tmp_path / "i" / "k.tif", 3))
    run = project.start_run("m", {}, 0.0)
    for m in (a, b, k):
        project.set_manual_boxes(m.id, [Box(0, 0, 4, 4, 1)])
        project.set_manual_counts(m.id, {"mature": 2})
        project.store_detections(run.id, m.id, [Detection(0, 0, 3, 3, 2, 0.8)] * 3)
    path = project.path
    tables = ("micrographs", "manual_annotations", "manual_boxes", "manual_counts",
              "run_micrographs", "detections")
    assert [count_rows(path, t) for t in tables] == [3, 3, 3, 3, 3, 9]

    project.remove_micrograph(a.id)
    assert [count_rows(path, t) for t in tables] == [2, 2, 2, 2, 2, 6]
    assert events[-1] == ChangeEvent("micrograph", (a.id,))
    project.remove_experiment(wt.id)
    assert events[-2:] == [ChangeEvent("micrograph", (b.id,)), ChangeEvent("experiment", (wt.id,))]
    assert [count_rows(path, t) for t in tables] == [1, 1, 1, 1, 1, 3]
    assert project.detected_micrograph_ids(run.id) == {k.id}
    project.remove_run(run.id)
    assert [count_rows(path, t) for t in tables] == [1, 1, 1, 1, 0, 0]
    assert project.micrographs() == [k] and project.runs() == []
    with pytest.raises(ProjectError, match="no micrograph"):
        project.remove_micrograph(a.id)
    with pytest.raises(ProjectError, match="no experiment"):
        project.remove_experiment(wt.id)
    # ids are never reused after a removal
    assert project.add_experiment("WT").id == keep.id + 1


def test_settings_round_trip_survive_reopen_and_send_an_event(tmp_path):
    path = tmp_path / "s.temnet"
    with Project.create(path) as proj:
        events = []
        proj.subscribe(events.append)
        assert proj.setting("threshold") is None
        assert proj.setting("threshold", 0.5) == 0.5
        proj.set_setting("threshold", 0.72)
        proj.set_setting("viewer", {"boxes": True, "labels": False})
        assert events[-1] == ChangeEvent("settings", ())
        with pytest.raises(ProjectError, match="invalid setting name"):
            proj.set_setting("schema_version", 3)
        with pytest.raises(ProjectError, match="cannot be saved"):
            proj.set_setting("threshold", float("nan"))
    with Project.open(path) as proj:
        assert proj.setting("threshold") == 0.72
        assert proj.setting("viewer") == {"boxes": True, "labels": False}
        proj.set_setting("threshold", None)
        assert proj.setting("threshold", 0.5) == 0.5
