"""Hostile project files through ``temnet info / stats / report / detect``: foreign and damaged
files, rows damaged by hand (each named by table and row), a project in a read-only folder
(opened read-only with a notice), a newer format; nothing saved is ever changed by a refusal."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import tifffile
from hostile import assert_clear_error, read_only, run_in_process, snapshot

from temnet_app.core.boxes import Box, Detection
from temnet_app.core.project import Project


@pytest.fixture
def project_path(tmp_path):
    """A project with one experiment, two micrographs, a complete run and manual counts."""
    folder = tmp_path / "study"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(folder / name, rng.integers(80, 170, (200, 300), np.uint8))
    path = folder / "study.temnet"
    with Project.create(path) as project:
        wt = project.add_experiment("WT")
        a = project.add_micrograph(wt.id, folder / "a.tif")
        b = project.add_micrograph(wt.id, folder / "b.tif")
        run = project.start_run("model@1", {"mode": "whole"}, 0.05)
        project.store_detections(run.id, a.id, [Detection(10, 10, 60, 60, 2, 0.9),
                                                Detection(100, 100, 150, 160, 1, 0.8)])
        project.store_detections(run.id, b.id, [Detection(5, 5, 40, 40, 3, 0.7)])
        project.finish_run(run.id, "complete")
        project.set_manual_counts(a.id, {"mature": 1, "eccentric": 1, "immature": 0})
        project.set_manual_boxes(b.id, [Box(5, 5, 40, 40, 3)])
    return path


def _sql(path, statement, *args):
    conn = sqlite3.connect(path)
    try:
        conn.execute(statement, args)
        conn.commit()
    finally:
        conn.close()


FOREIGN = {
    "zero_bytes": (lambda p: p.write_bytes(b""), "not a TEMNet project"),
    "text_file": (lambda p: p.write_text("experiment,file\nWT,a.tif\n"), "not a TEMNet project"),
    "sqlite_but_foreign": (lambda p: _sql(p, "CREATE TABLE t (x)"), "not a TEMNet project"),
    "sqlite_header_only": (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84),
                           "study.temnet"),
    "random_bytes": (lambda p: p.write_bytes(bytes(range(256)) * 40), "not a TEMNet project"),
}


@pytest.mark.parametrize("command", ["info", "stats", "detect"])
@pytest.mark.parametrize("kind", list(FOREIGN))
def test_a_foreign_or_damaged_file_is_one_line(kind, command, tmp_path, capsys):
    path = tmp_path / "study.temnet"
    make, fragment = FOREIGN[kind]
    make(path)
    before = path.read_bytes()
    out = run_in_process(capsys, command, path)
    assert_clear_error(out, command, fragment)
    assert path.read_bytes() == before


def test_a_folder_or_missing_file_is_one_line(tmp_path, capsys):
    (tmp_path / "dir.temnet").mkdir()
    for target, fragment in ((tmp_path / "dir.temnet", "dir.temnet"),
                             (tmp_path / "gone.temnet", "gone.temnet")):
        for command in ("info", "stats", "open"):
            assert_clear_error(run_in_process(capsys, command, target), command, fragment)


def test_a_truncated_project_is_refused_and_left_as_it_was(project_path, capsys):
    data = project_path.read_bytes()
    project_path.write_bytes(data[:len(data) // 3])
    before = project_path.read_bytes()
    out = run_in_process(capsys, "info", project_path)
    assert_no_crash_and_unchanged(out, project_path, before)


def assert_no_crash_and_unchanged(out, path, before):
    assert "Traceback" not in out.err + out.out
    assert out.code in (0, 2), out.err
    if out.code == 2:
        assert len(out.error_lines) == 1, out.err
    assert path.read_bytes() == before


def test_a_newer_project_format_asks_for_an_update(project_path, capsys):
    _sql(project_path, "PRAGMA user_version = 99")
    out = run_in_process(capsys, "info", project_path)
    assert_clear_error(out, "info", "newer TEMNet Studio", "please update")


DAMAGE = {
    "settings_not_json": ("UPDATE runs SET settings = '{not json' WHERE id = 1",
                          "table runs, row 1"),
    "settings_not_object": ("UPDATE runs SET settings = '[1, 2]' WHERE id = 1",
                            "table runs, row 1"),
    "class_id_99": ("UPDATE detections SET class_id = 99 WHERE rowid = 1",
                    "table detections, row 1"),
    "text_coordinate": ("UPDATE detections SET x1 = 'ten' WHERE rowid = 2",
                        "table detections, row 2"),
    "null_like_score": ("UPDATE detections SET score = 'high' WHERE rowid = 3",
                        "table detections, row 3"),
    "nan_coordinate": ("UPDATE detections SET y2 = 'NaN' WHERE rowid = 1",
                       "table detections, row 1"),
}


@pytest.mark.parametrize("command", ["stats", "report"])
@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_row_damaged_by_hand_is_named(kind, command, project_path, tmp_path, capsys):
    statement, fragment = DAMAGE[kind]
    conn = sqlite3.connect(project_path)
    conn.execute("PRAGMA ignore_check_constraints = ON")   # as an SQLite editor would allow
    conn.execute(statement)
    conn.commit()
    conn.close()
    before = snapshot(project_path.parent)
    argv = [command, project_path] + (["--out", tmp_path / "r"] if command == "report" else [])
    out = run_in_process(capsys, *argv)
    assert_clear_error(out, command, "damaged project", fragment)
    assert snapshot(project_path.parent) == before


def test_a_project_in_a_read_only_folder_opens_read_only(project_path, tmp_path, capsys):
    folder = project_path.parent
    before = snapshot(folder)
    with read_only(folder):
        out = run_in_process(capsys, "info", project_path)
        assert out.code == 0, out.err
        assert out.out.startswith("note: opened read-only because its folder")
        assert "WT: 2 micrographs" in out.out and "#1 model@1 complete" in out.out
        out = run_in_process(capsys, "stats", project_path)
        assert out.code == 0 and "run #1" in out.out, out.err
        out = run_in_process(capsys, "report", project_path, "--out", tmp_path / "r",
                             "--no-thumbnails")
        assert out.code == 0, out.err
        with Project.open(project_path) as project:
            assert "read-only" in project.read_only
            with pytest.raises(Exception, match="open read-only"):
                project.add_experiment("new")
        out = run_in_process(capsys, "detect", project_path)
        assert_clear_error(out, "detect", "open read-only")
    assert snapshot(folder) == before


def test_an_older_project_in_a_read_only_folder_says_why_it_cannot_open(project_path, capsys):
    _sql(project_path, "PRAGMA user_version = 2")
    before = project_path.read_bytes()
    with read_only(project_path.parent):
        out = run_in_process(capsys, "info", project_path)
        assert_clear_error(out, "info", "older project format", "cannot be upgraded",
                           "read-only")
    assert project_path.read_bytes() == before


def test_counts_beyond_any_micrograph_are_refused(project_path, tmp_path, capsys):
    from temnet_app.core.errors import AnnotationError
    from temnet_app.jobs import import_annotations

    counts = tmp_path / "counts.csv"
    counts.write_text("filename,eccentric,mature,immature\na.tif,1,12345678901234567890123,0\n")
    with Project.open(project_path) as project:
        before = project.manual_counts(project.micrographs()[0].id)
        with pytest.raises(AnnotationError, match="line 2: mature count .* implausibly large"):
            import_annotations(project, counts)
        assert project.manual_counts(project.micrographs()[0].id) == before
