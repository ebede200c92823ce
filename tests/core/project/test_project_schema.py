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


def old_format_file(path, version: int):
    """An empty project file in format ``version``, written with raw SQL through the
    migrations as they stood (the current Project class writes only the current format)."""
    conn = schema.connect(path)
    try:
        conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
        saved = schema.SCHEMA_VERSION
        schema.SCHEMA_VERSION = version
        try:
            schema.migrate(conn, path, allow_empty=True)
        finally:
            schema.SCHEMA_VERSION = saved
    finally:
        conn.close()
    assert user_version(path) == version
    return path


@pytest.fixture
def v1_project(tmp_path):
    """A project file in format 1 (the first release's) with one experiment."""
    path = old_format_file(tmp_path / "old study.temnet", 1)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO experiments (name, notes, created) VALUES "
                     "('WT', 'kept across the upgrade', '2025-01-01T00:00:00+00:00')")
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


def _v3_project(path):
    """A format-3 project as the previous release wrote it: a derived pixel size next to a
    stated magnification, a stated pixel size with its derived magnification, a half-size
    export stating both (inconsistent), and a run, manual data and a review on top."""
    old_format_file(path, 3)
    now = "2026-01-01T00:00:00+00:00"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("INSERT INTO experiments (name, notes, magnification, created) VALUES "
                     "('WT', 'grid 3', 20000, ?)", (now,))
        rows = [  # name, file magnification, pixel size, magnification override
            ("derived.tif", 25000.0, 0.561 * 30000 / 25000, None),
            ("stated.mrc", 0.561 * 30000 / 0.7, 0.7, None),
            ("half.tif", 30000.0, 1.122, None),
            ("plain.tif", None, None, 40000.0),
        ]
        for i, (name, mag, size, override) in enumerate(rows, 1):
            conn.execute("INSERT INTO micrographs (experiment_id, path, abs_path, file_size, "
                         "checksum, width, height, file_magnification, magnification_override, "
                         "pixel_size_nm, added) VALUES (1, ?, ?, 10, ?, 400, 300, ?, ?, ?, ?)",
                         (name, f"/data/{name}", f"{i:064x}", mag, override, size, now))
        conn.execute("INSERT INTO runs (model_id, settings, score_floor, status, created, "
                     "finished) VALUES ('m1', '{}', 0.05, 'complete', ?, ?)", (now, now))
        for mid in (1, 2, 3, 4):
            conn.execute("INSERT INTO run_micrographs VALUES (1, ?, ?)", (mid, now))
            conn.execute("INSERT INTO detections VALUES (1, ?, 1, 2, 30, 40, 2, 0.9)", (mid,))
        conn.execute("INSERT INTO manual_annotations VALUES (1, ?)", (now,))
        conn.execute("INSERT INTO manual_boxes (micrograph_id, x1, y1, x2, y2, class_id) "
                     "VALUES (1, 5, 5, 50, 50, 3)")
        conn.execute("INSERT INTO manual_counts VALUES (2, 'mature', 7)")
        conn.execute("INSERT INTO reviews VALUES (1, ?)", (now,))
    return path


def _table_rows(path, table, columns="*"):
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {columns} FROM {table} ORDER BY 1, 2").fetchall()


def test_format_3_migrates_to_pixel_size_scale_keeping_every_row(tmp_path):
    path = _v3_project(tmp_path / "v3.temnet")
    tables = ("experiments", "micrographs", "runs", "run_micrographs", "detections",
              "manual_annotations", "manual_boxes", "manual_counts", "reviews", "meta")
    before = {t: _table_rows(path, t) for t in tables}
    with Project.open(path) as proj:
        assert user_version(path) == 4
        ms = {m.name: m for m in proj.micrographs()}
        # a value derived from the other is cleared; stated ones stay
        assert ms["derived.tif"].pixel_size_nm is None
        assert ms["derived.tif"].file_magnification == 25000.0
        assert ms["stated.mrc"].pixel_size_nm == 0.7
        assert ms["stated.mrc"].file_magnification is None
        assert (ms["half.tif"].file_magnification, ms["half.tif"].pixel_size_nm) == (30000, 1.122)
        assert ms["half.tif"].pixel_size_nm == 1.122
        assert all(m.pixel_size_override is None for m in ms.values())
        assert proj.experiment_by_name("WT").pixel_size_nm is None
        # the scale each micrograph now gets
        assert proj.pixel_size(ms["derived.tif"]) == pytest.approx(0.6732)
        assert proj.pixel_size(ms["stated.mrc"]) == pytest.approx(0.7)
        assert proj.pixel_size(ms["half.tif"]) == pytest.approx(1.122)   # was 0.561 (30,000x)
        assert proj.magnification(ms["half.tif"]) == 30000.0              # the label stays
        assert proj.pixel_size(ms["plain.tif"]) == pytest.approx(0.561 * 30000 / 40000)
        # runs stored before format 4 have no recorded scale
        assert proj.run_scales(1) == {1: (None, None), 2: (None, None), 3: (None, None),
                                      4: (None, None)}
        assert len(proj.detections(1, ms["half.tif"].id)) == 1
        assert proj.manual_counts(ms["stated.mrc"].id) == {"mature": 7}
        assert proj.reviewed_micrograph_ids() == {ms["derived.tif"].id}
    for table in tables:
        after = _table_rows(path, table)
        assert len(after) == len(before[table]), table
        if table == "micrographs":      # only the derived pixel size changed (column 10)
            for old, new in zip(before[table], after):
                assert new[:8] + new[11:12] == old[:8] + old[11:12]
                assert new[9] == old[9]
                assert new[8] == (None if old[2] == "stated.mrc" else old[8])
                assert new[10] == (None if old[2] == "derived.tif" else old[10])
                assert new[12] is None                      # pixel_size_override
        elif table not in ("experiments", "run_micrographs"):
            assert after == before[table], table
        else:                           # the old columns unchanged, new ones empty
            assert [r[:len(before[table][0])] for r in after] == before[table], table
            assert all(v is None for r in after for v in r[len(before[table][0]):]), table
    backup = path.with_name("v3.temnet.format3.bak")
    assert user_version(backup) == 3 and _table_rows(backup, "micrographs") == \
        before["micrographs"]
