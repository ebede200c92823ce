"""jobs.run_detection / predict_files with a small deterministic fake detector (job logic only;
the real detector is tested end to end in tests/detector and tests/cli)."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from temnet_app.core.boxes import DEFAULT_SCHEME, Detection
from temnet_app.core.errors import Cancelled, MicrographError, ModelError, ProjectError
from temnet_app.core.progress import CancelToken
from temnet_app.core.project import Project
from temnet_app.jobs import (default_model_dir, expand_paths, predict_files, resolve_model_dir,
                             run_detection)

GREYS = (40, 80, 120, 160)


class FakeDetector:
    """Two boxes per image whose score encodes the image's grey level (so tests can tell which
    image the job passed); optionally cancels or fails on the n-th call."""

    device = "CPU"
    score_floor = 0.05
    scheme = DEFAULT_SCHEME

    def __init__(self, model_id="fake@1", cancel_on=None, raise_on=None, error=None,
                 on_detect=None):
        self.model_id = model_id
        self.on_detect = on_detect
        self.cancel_on = cancel_on
        self.raise_on = raise_on
        self.error = error
        self.calls = []

    def settings(self):
        return {"kind": "fake", "mode": "tiled"}

    def detect(self, image, magnification=None, progress=None, cancel=None, *,
               pixel_size_nm=None):
        """Records (mean grey, nm/px) of each call; the jobs pass pixel sizes."""
        assert magnification is None and pixel_size_nm is not None
        self.calls.append((float(image.mean()), float(pixel_size_nm)))
        if self.on_detect is not None:
            self.on_detect()
        if progress is not None:
            progress(0.5, "half way")
        if self.raise_on == len(self.calls):
            raise self.error
        h, w = image.shape
        grey = float(image.mean()) / 255.0
        out = [Detection(2, 3, w / 2, h / 2, 2, round(grey, 6)),
               Detection(w / 2, h / 2, w - 2, h - 3, 3, 0.04 + grey / 2)]
        if self.cancel_on == len(self.calls):
            cancel.cancel()
        return out


def _make_images(folder: Path, greys=GREYS, size=(48, 64)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, g in enumerate(greys):
        p = folder / f"m{i + 1}.tif"
        tifffile.imwrite(p, np.full(size, g, dtype=np.uint8))
        paths.append(p)
    return paths


@pytest.fixture
def project(tmp_path):
    images = tmp_path / "WT"
    _make_images(images)
    with Project.create(tmp_path / "p.temnet") as proj:
        proj.add_folder(images, magnification=30000.0)
        yield proj


def test_run_stores_every_micrograph_at_its_scale(project):
    ms = project.micrographs()
    project.set_magnification_override(ms[1].id, 25000.0)
    project.set_pixel_size_override(ms[2].id, 0.28)
    fake = FakeDetector()
    seen = []
    summary = run_detection(project, ms, fake, progress=lambda f, msg: seen.append((f, msg)))
    assert summary.status == "complete" and project.run(summary.run_id).status == "complete"
    assert summary.processed == tuple(m.id for m in ms) and summary.skipped == ()
    assert summary.n_detections == 2 * len(ms) and summary.total == len(ms)
    # 30,000x at the reference calibration is 0.561 nm/px, 25,000x 0.6732 nm/px
    assert [c[1] for c in fake.calls] == pytest.approx([0.561, 0.6732, 0.28, 0.561])
    # the run records the scale it used, and where it came from
    scales = project.run_scales(summary.run_id)
    assert scales[ms[1].id] == (pytest.approx(0.6732), "25,000x set for this micrograph, at the "
                                                       "reference calibration")
    assert scales[ms[2].id] == (0.28, "set for this micrograph")
    assert scales[ms[0].id][1] == "30,000x experiment setting, at the reference calibration"
    assert [round(c[0]) for c in fake.calls] == list(GREYS)
    run = project.run(summary.run_id)
    assert run.model_id == "fake@1" and run.settings == fake.settings()
    assert run.score_floor == pytest.approx(0.05)
    for m, g in zip(ms, GREYS):
        stored = project.detections(summary.run_id, m.id)
        assert len(stored) == 2
        assert stored[0].xyxy() == (2.0, 3.0, 32.0, 24.0) and stored[0].class_id == 2
        assert stored[0].score == pytest.approx(round(g / 255, 6))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("m2.tif (2/4): half way" in msg for _, msg in seen)


def test_cancel_after_second_micrograph_keeps_two(project):
    ms = project.micrographs()
    token = CancelToken()
    fake = FakeDetector(cancel_on=2)
    seen = []
    summary = run_detection(project, ms, fake, cancel=token,
                            progress=lambda f, msg: seen.append((f, msg)))
    assert summary.status == "cancelled" and project.run(summary.run_id).status == "cancelled"
    assert seen[-1] == (0.5, "detection cancelled: 2 micrograph(s), 4 detections")
    assert len(fake.calls) == 2
    assert project.detected_micrograph_ids(summary.run_id) == {ms[0].id, ms[1].id}
    assert summary.processed == (ms[0].id, ms[1].id)


def test_cancel_inside_a_micrograph_keeps_the_finished_ones(project):
    ms = project.micrographs()
    fake = FakeDetector(raise_on=3, error=Cancelled("cancelled by the user"))
    summary = run_detection(project, ms, fake, cancel=CancelToken())
    assert summary.status == "cancelled"
    assert project.detected_micrograph_ids(summary.run_id) == {ms[0].id, ms[1].id}


def test_resume_skips_what_the_run_holds(project):
    ms = project.micrographs()
    first = run_detection(project, ms, FakeDetector(cancel_on=1), cancel=CancelToken())
    assert first.processed == (ms[0].id,)
    assert project.run(first.run_id).status == "cancelled"
    during = []
    fake = FakeDetector(on_detect=lambda: during.append(project.run(first.run_id).status))
    again = run_detection(project, ms, fake, skip_done_run=first.run_id)
    assert during == ["running"] * 3 and project.run(first.run_id).status == "complete"
    assert again.run_id == first.run_id and again.status == "complete"
    assert again.already_done == (ms[0].id,) and len(fake.calls) == 3
    assert project.detected_micrograph_ids(first.run_id) == {m.id for m in ms}
    assert len(project.runs()) == 1
    with pytest.raises(ProjectError, match="other@2"):
        run_detection(project, ms, FakeDetector(model_id="other@2"), skip_done_run=first.run_id)


def test_unreadable_micrograph_is_skipped_and_reported(project, tmp_path):
    ms = project.micrographs()
    project.image_path(ms[1]).write_bytes(b"this is not a TIFF")
    project.image_path(ms[2]).unlink()
    fake = FakeDetector()
    summary = run_detection(project, ms, fake)
    assert summary.status == "complete"
    assert summary.processed == (ms[0].id, ms[3].id)
    assert [s.micrograph_id for s in summary.skipped] == [ms[1].id, ms[2].id]
    assert "m2.tif" in summary.skipped[0].reason and "m3.tif" in summary.skipped[1].reason
    assert project.detected_micrograph_ids(summary.run_id) == {ms[0].id, ms[3].id}


def test_all_unreadable_is_failed(project):
    ms = project.micrographs()
    for m in ms:
        project.image_path(m).write_bytes(b"junk")
    summary = run_detection(project, ms, FakeDetector())
    assert summary.status == "failed" and len(summary.skipped) == len(ms)
    assert project.run(summary.run_id).status == "failed"


def test_detector_error_marks_run_failed_and_keeps_earlier_work(project):
    ms = project.micrographs()
    fake = FakeDetector(raise_on=2, error=RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        run_detection(project, ms, fake)
    (run,) = project.runs()
    assert run.status == "failed"
    assert project.detected_micrograph_ids(run.id) == {ms[0].id}


def test_ctrl_c_marks_run_cancelled_and_propagates(project):
    ms = project.micrographs()
    with pytest.raises(KeyboardInterrupt):
        run_detection(project, ms, FakeDetector(raise_on=2, error=KeyboardInterrupt()))
    (run,) = project.runs()
    assert run.status == "cancelled"


def test_predict_files_reports_unreadable_and_uses_magnification(tmp_path):
    paths = _make_images(tmp_path / "imgs", greys=(50, 150))
    bad = tmp_path / "imgs" / "bad.tif"
    bad.write_bytes(b"\x00\x01nope")
    fake = FakeDetector()
    results = predict_files([paths[0], bad, paths[1]], fake)
    assert [r.name for r in results] == ["m1.tif", "bad.tif", "m2.tif"]
    assert results[1].error and "bad.tif" in results[1].error and results[1].detections == []
    assert results[0].magnification == 30000.0 and results[0].scale.pixel_size_source == "default"
    assert results[0].pixel_size_nm == pytest.approx(0.561)
    assert (results[0].width, results[0].height) == (64, 48)
    assert results[2].detections[0].score == pytest.approx(round(150 / 255, 6))
    results = predict_files(paths, fake, magnification=20000)
    assert {(r.magnification, r.scale.pixel_size_source) for r in results} == {
        (20000.0, "override")}
    assert fake.calls[-1][1] == pytest.approx(0.8415)
    results = predict_files(paths, fake, magnification=20000, pixel_size_nm=0.3)
    assert fake.calls[-1][1] == 0.3 and results[0].magnification == 20000.0
    with pytest.raises(MicrographError, match="magnification"):
        predict_files(paths, fake, magnification=5)
    with pytest.raises(MicrographError, match="pixel size"):
        predict_files(paths, fake, pixel_size_nm=-1)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        predict_files(paths, fake, cancel=token)


def test_expand_paths(tmp_path):
    paths = _make_images(tmp_path / "imgs", greys=(1, 2, 3))
    (tmp_path / "imgs" / "notes.txt").write_text("x")
    assert expand_paths([tmp_path / "imgs"]) == paths
    assert expand_paths([paths[2], paths[0]]) == [paths[2], paths[0]]
    with pytest.raises(MicrographError, match="nope.tif"):
        expand_paths([tmp_path / "nope.tif"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(MicrographError, match="empty"):
        expand_paths([tmp_path / "empty"])


def test_model_dir_resolution(tmp_path):
    assert default_model_dir().name == "temnet-gn-pellet"
    assert resolve_model_dir(tmp_path) == tmp_path
    with pytest.raises(ModelError, match="does not exist.*temnet train"):
        resolve_model_dir(tmp_path / "missing")
    if not default_model_dir().is_dir():
        with pytest.raises(ModelError, match="no detector model found"):
            resolve_model_dir(None)
