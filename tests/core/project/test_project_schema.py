"""Project file format: recognising project files, schema versions and migrations
(temnet_app.core.project.schema via Project.open)."""

import sqlite3

import pytest

from temnet_app.core.errors import ProjectError
from temnet_app.core.project import Project, schema


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


CURRENT = schema.SCHEMA_VERSION


@pytest.fixture
def v1_project(tmp_path, monkeypatch):
    """A project file in format 1 (written as this program's first release wrote it)."""
    path = tmp_path / "old study.temnet"
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", 1)
        with Project.create(path) as proj:
            proj.add_experiment("WT", notes="kept across the upgrade")
    assert user_version(path) == 1
    return path


@pytest.fixture
def current_project(tmp_path):
    path = tmp_path / "study.temnet"
    with Project.create(path) as proj:
        proj.add_experiment("WT", notes="kept across the upgrade")
    return path


def test_format_1_files_gain_the_reviewed_mark(v1_project, tmp_path):
    import numpy as np
    import tifffile

    with Project.open(v1_project) as proj:
        assert user_version(v1_project) == CURRENT
        folder = tmp_path / "img"
        folder.mkdir()
        tifffile.imwrite(folder / "a.tif", np.full((40, 40), 90, np.uint8))
        mid = proj.add_folder(folder).added[0].id
        assert proj.reviewed_micrograph_ids() == set()
        proj.set_reviewed(mid)
        assert proj.reviewed_micrograph_ids() == {mid}
        proj.set_reviewed(mid, False)
        assert proj.reviewed_micrograph_ids() == set()
        proj.set_reviewed(mid)
        proj.remove_micrograph(mid)
        assert proj.reviewed_micrograph_ids() == set()
    assert user_version(v1_project.with_name("old study.temnet.format1.bak")) == 1


def test_migration_hook_upgrades_an_older_file(current_project, monkeypatch):
    calls = []

    def to_next(conn):
        calls.append(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute("ALTER TABLE experiments ADD COLUMN colour TEXT NOT NULL DEFAULT 'grey'")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", CURRENT + 1)
    monkeypatch.setitem(schema.MIGRATIONS, CURRENT, to_next)
    with Project.open(current_project) as proj:
        assert proj.experiment_by_name("WT").notes == "kept across the upgrade"
        assert proj._store._conn.execute("SELECT colour FROM experiments").fetchone()[0] == "grey"
    assert calls == [CURRENT]
    assert user_version(current_project) == CURRENT + 1
    backup = current_project.with_name(f"study.temnet.format{CURRENT}.bak")
    assert user_version(backup) == CURRENT
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT name FROM experiments").fetchall() == [("WT",)]
    with Project.open(current_project):  # already upgraded: no second migration
        pass
    assert calls == [CURRENT]


def test_failed_migration_leaves_the_file_untouched(current_project, monkeypatch):
    def broken(conn):
        conn.execute("ALTER TABLE experiments ADD COLUMN half_done TEXT")
        raise RuntimeError("disk gremlin")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", CURRENT + 1)
    monkeypatch.setitem(schema.MIGRATIONS, CURRENT, broken)
    with pytest.raises(ProjectError, match="cannot upgrade study.temnet.*disk gremlin"):
        Project.open(current_project)
    assert user_version(current_project) == CURRENT
    with sqlite3.connect(current_project) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(experiments)")]
    assert "half_done" not in columns

    monkeypatch.delitem(schema.MIGRATIONS, CURRENT)
    with pytest.raises(ProjectError, match=f"no migration from project format {CURRENT} to "
                                           f"{CURRENT + 1}"):
        Project.open(current_project)


def test_newer_schema_is_refused(v1_project):
    with sqlite3.connect(v1_project) as conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(ProjectError, match="made by a newer TEMNet Studio"):
        Project.open(v1_project)
    assert user_version(v1_project) == 7


def test_files_that_are_not_projects(tmp_path):
    with pytest.raises(ProjectError, match="not found"):
        Project.open(tmp_path / "missing.temnet")
    with pytest.raises(ProjectError, match="folder"):
        Project.open(tmp_path)
    text = tmp_path / "notes.temnet"
    text.write_text("hello, this is a text file pretending to be a project\n" * 10)
    with pytest.raises(ProjectError, match="not a TEMNet project"):
        Project.open(text)
    empty = tmp_path / "empty.temnet"
    empty.write_bytes(b"")
    with pytest.raises(ProjectError, match="not a TEMNet project"):
        Project.open(empty)
    assert empty.read_bytes() == b""  # SQLite must not have turned it into a database
    other = tmp_path / "other.temnet"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('application', 'something else')")
    with pytest.raises(ProjectError, match="SQLite database but not a TEMNet project"):
        Project.open(other)
    truncated = tmp_path / "truncated.temnet"
    with Project.create(tmp_path / "whole.temnet"):
        pass
    truncated.write_bytes((tmp_path / "whole.temnet").read_bytes()[:200])
    with pytest.raises(ProjectError, match="not a TEMNet project"):
        Project.open(truncated)


def test_identity_marks_are_written(tmp_path):
    path = tmp_path / "p.temnet"
    Project.create(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x54454D4E
        assert dict(conn.execute("SELECT key, value FROM meta")) == {
            "application": "TEMNet Studio",
            "class_names": '["eccentric", "mature", "immature"]'}
        columns = [row[2] for row in conn.execute(
            "PRAGMA index_info(detections_run_micrograph)")]
        plan = " ".join(str(row[3]) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT score FROM detections WHERE run_id = 1 AND "
            "micrograph_id = 2 AND score >= 0.5"))
    assert columns == ["run_id", "micrograph_id", "score"]
    assert "USING COVERING INDEX detections_run_micrograph" in plan or \
        "USING INDEX detections_run_micrograph" in plan
