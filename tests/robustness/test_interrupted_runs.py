"""kill -9 in the middle of ``temnet detect``: the run shows as interrupted (not running
forever), statistics keep using the last complete run, a resume finishes it, and only one
process can resume a run at a time. Real processes, the shipped model."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile
from hostile import assert_clear_error, run_process

from temnet_app.core.boxes import Detection
from temnet_app.core.project import Project

pytestmark = pytest.mark.slow
N_MICROGRAPHS = 14


@pytest.fixture
def project_path(tmp_path):
    folder = tmp_path / "WT"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(N_MICROGRAPHS):
        tifffile.imwrite(folder / f"m{i:02d}.tif", rng.integers(70, 180, (1400, 2000), np.uint8))
    path = tmp_path / "study.temnet"
    with Project.create(path) as project:
        project.add_folder(folder)
        first = project.micrographs()[0]
        run = project.start_run("earlier@1", {"mode": "whole"}, 0.05)   # run #1, complete
        project.store_detections(run.id, first.id, [Detection(10, 10, 90, 90, 2, 0.9)])
        project.finish_run(run.id, "complete")
    return path


def _stored(path, run_id) -> int:
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM run_micrographs WHERE run_id = ?",
                            (run_id,)).fetchone()[0]
    finally:
        conn.close()


def _owner(path, run_id):
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute("SELECT owner_pid FROM runs WHERE id = ?", (run_id,)).fetchone()
    finally:
        conn.close()


def _start_detect(path, *extra):
    return subprocess.Popen([sys.executable, "-m", "temnet_app", "detect", str(path),
                             "--mode", "tiled", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(condition, process, seconds=240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"detect ended early: {process.communicate()}")
        time.sleep(0.05)
    process.kill()
    pytest.fail("timed out")


def test_kill_9_then_interrupted_then_a_single_resume(project_path):
    killed = _start_detect(project_path)
    try:
        _wait_for(lambda: _stored(project_path, 2) >= 2, killed)
        killed.send_signal(signal.SIGKILL)
    finally:
        killed.wait(30)
        killed.communicate()
    done_before = _stored(project_path, 2)
    assert 2 <= done_before < N_MICROGRAPHS

    info = run_process("info", project_path)
    assert info.code == 0, info.err
    assert "#2 temnet-gn-pellet@5 interrupted" in info.out, info.out
    stats = run_process("stats", project_path)
    assert stats.code == 0 and "run #1 (model earlier@1, complete)" in stats.out, stats.out
    with Project.open(project_path) as project:
        assert project.run(2).status == "interrupted" and project.latest_run().id == 1

    resumer = _start_detect(project_path, "--resume", "2")
    try:
        _wait_for(lambda: _owner(project_path, 2) == (resumer.pid,), resumer)
        second = run_process("detect", project_path, "--resume", "2")
        assert_clear_error(second, "detect", f"run #2 is being run by process {resumer.pid}")
        listing = run_process("info", project_path)
        assert f"#2 temnet-gn-pellet@5 running (process {resumer.pid}" in listing.out
        out, err = resumer.communicate(timeout=600)
    finally:
        if resumer.poll() is None:
            resumer.kill()
            resumer.wait(30)
    assert resumer.returncode == 0, err
    assert f"run #2 complete: {N_MICROGRAPHS - done_before} micrograph(s) processed, " \
           f"{done_before} already done" in out
    assert "Traceback" not in err
    with Project.open(project_path) as project:
        assert project.run(2).status == "complete" and project.latest_run().id == 2
        assert len(project.detected_micrograph_ids(2)) == N_MICROGRAPHS


def test_a_stale_owner_record_is_interrupted(project_path):
    """A run whose recorded process is gone (a pid no process has) is interrupted; one whose
    process is alive is running."""
    with Project.open(project_path) as project:
        run = project.start_run("m@1", {}, 0.05)
        assert project.run(run.id).status == "running"
        assert project.run(run.id).owner == f"process {os.getpid()} on {os.uname().nodename}"
    conn = sqlite3.connect(project_path)
    conn.execute("UPDATE runs SET owner_pid = 4000000 WHERE id = ?", (run.id,))
    conn.commit()
    conn.close()
    with Project.open(project_path) as project:
        assert project.run(run.id).status == "interrupted"
        claimed = project.claim_run(run.id)
        assert claimed.status == "running"
