"""jobs.add_paths, import_annotations, describe_model and detect_in_project (with a fake
detector in place of the model, so no TensorFlow here)."""

import json
import shutil

import numpy as np
import pytest
import tifffile
from test_jobs import FakeDetector

import temnet_app.jobs.models as models
from temnet_app.core.annotations import write_coco_json, write_via_csv
from temnet_app.core.boxes import Box, Detection
from temnet_app.core.errors import AnnotationError, ModelError
from temnet_app.core.progress import CancelToken
from temnet_app.core.project import Project
from temnet_app.jobs import (add_paths, default_model_dir, describe_model, detect_in_project,
                             import_annotations)


def tif(path, grey=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, np.full((64, 80), grey, np.uint8) +
                     np.arange(80, dtype=np.uint8)[None, :])
    return path


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "p.temnet") as proj:
        yield proj


def test_add_paths_folders_become_experiments_files_join_one(project, tmp_path):
    tif(tmp_path / "WT" / "a.tif", 10)
    tif(tmp_path / "WT" / "b.tif", 20)
    (tmp_path / "WT" / "readme.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    loose = [tif(tmp_path / "loose" / "c.tif", 30), tmp_path / "loose" / "gone.tif",
             tmp_path / "WT" / "readme.txt"]
    seen = []
    summary = add_paths(project, [tmp_path / "WT", tmp_path / "empty"], None,
                        progress=lambda f, m: seen.append(f))
    assert [e.name for e in summary.experiments] == ["WT"]
    assert [m.name for m in summary.added] == ["a.tif", "b.tif"]
    reasons = {p.name: r for p, r in summary.skipped}
    assert reasons["readme.txt"] == "not a micrograph image file"
    assert "is empty" in reasons["empty"] and seen[-1] == 1.0 and not summary.cancelled
    wt = summary.experiments[0].id
    summary = add_paths(project, loose, wt)
    assert [m.name for m in summary.added] == ["c.tif"]
    assert {p.name: r for p, r in summary.skipped} == {
        "gone.tif": "file not found",
        "readme.txt": "not a micrograph image file (TIFF, PNG, JPEG, MRC, DM3/DM4, SER)"}
    summary = add_paths(project, [tmp_path / "loose" / "c.tif"], None)
    assert summary.added == [] and "no experiment selected" in summary.skipped[0][1]


def test_add_paths_cancel_keeps_what_was_added(project, tmp_path):
    for name in ("A", "B"):
        tif(tmp_path / name / "x.tif", ord(name))
    token = CancelToken()

    def progress(fraction, message):
        if message.startswith("added"):
            token.cancel()          # after the first folder is in

    summary = add_paths(project, [tmp_path / "A", tmp_path / "B"], progress=progress,
                        cancel=token)
    assert summary.cancelled and [e.name for e in summary.experiments] == ["A"]
    assert [e.name for e in project.experiments()] == ["A"]


def test_import_boxes_and_counts_matched_by_file_name(project, tmp_path):
    tif(tmp_path / "WT" / "a.tif", 10)
    tif(tmp_path / "WT" / "b.tif", 20)
    project.add_folder(tmp_path / "WT")
    a, b = (m.id for m in project.micrographs())
    via = tmp_path / "labels.csv"
    write_via_csv(via, {"a.tif": [Box(1, 2, 30, 40, 2)], "other.tif": [Box(0, 0, 5, 5, 1)]})
    summary = import_annotations(project, via)
    assert summary.kind == "boxes" and summary.matched == [a]
    assert summary.unmatched == ["other.tif"]
    assert project.manual_boxes(a) == [Box(1, 2, 30, 40, 2)]
    coco = tmp_path / "dets.json"
    write_coco_json(coco, {"b.tif": [Detection(3, 3, 9, 9, 3, 0.9)]}, {"b.tif": (80, 64)})
    assert import_annotations(project, coco).matched == [b]
    counts = tmp_path / "counts.csv"
    counts.write_text("filename;Mature;Immature;Eccentric\nB.TIF;4;5;6\n")
    summary = import_annotations(project, counts)
    assert summary.kind == "counts" and summary.matched == [b]
    assert project.manual_counts(b) == {"eccentric": 6, "mature": 4, "immature": 5}
    assert "imported counts for 1 micrograph(s)" == summary.describe()
    with pytest.raises(AnnotationError, match="reads VIA CSV"):
        import_annotations(project, tmp_path / "WT" / "a.tif")


def test_describe_model_reads_the_card_without_tensorflow(tmp_path):
    summary = describe_model(None)
    assert summary.model_id.startswith("temnet-gn-pellet@")
    assert summary.classes == ("eccentric", "mature", "immature")
    assert summary.metrics[0].startswith("mAP@0.5 ") and "validation" in summary.metrics[0]
    card = json.loads((default_model_dir() / "model_card.json").read_text())
    assert summary.flip_average is (card["config"].get("flip_average") is True)
    broken = tmp_path / "broken"
    shutil.copytree(default_model_dir(), broken)
    card["config"]["flip_average"] = not summary.flip_average
    (broken / "model_card.json").write_text(json.dumps(card))
    assert describe_model(broken).flip_average is (not summary.flip_average)
    (broken / "weights.weights.h5").unlink()
    with pytest.raises(ModelError, match="weights file not found"):
        describe_model(broken)
    (broken / "model_card.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ModelError, match="JSON object"):
        describe_model(broken)


def test_detect_in_project_loads_then_runs(project, tmp_path, monkeypatch):
    tif(tmp_path / "WT" / "a.tif", 40)
    tif(tmp_path / "WT" / "b.tif", 80)
    project.add_folder(tmp_path / "WT")
    ids = [m.id for m in project.micrographs()]
    loaded = []
    fake = FakeDetector()
    monkeypatch.setattr(models, "load_detector", lambda model, mode, flips: loaded.append(
        (model, mode, flips)) or fake)
    steps = []
    summary = detect_in_project(project, ids, "some/model", progress=lambda f, m:
                                steps.append((f, m)), on_model_loaded=loaded.append,
                                flips=True)
    assert loaded == [("some/model", None, True), fake]
    assert summary.status == "complete" and summary.processed == tuple(ids)
    assert steps[0] == (0.0, "loading the detector model (TensorFlow)")
    assert steps[1][0] == pytest.approx(0.05) and steps[-1][0] == 1.0
    with pytest.raises(Exception, match="no micrographs selected"):
        detect_in_project(project, [], None)
