"""Killing a process mid-write never corrupts a project and leaves whole transactions only.

A child process rewrites detections and manual boxes in a loop; each write encodes a counter
``k`` so the parent can check afterwards that every micrograph holds exactly the rows of ONE
write (``y1`` holds the round). The child is SIGKILLed at random moments, several times;
meanwhile the parent reads and writes the same file through its own Project.
"""

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

from temnet_app.core.boxes import Detection
from temnet_app.core.project import Project

REPO = Path(__file__).resolve().parents[3]

CHILD = r"""
import sys
from temnet_app.core.boxes import Box, Detection
from temnet_app.core.project import Project

path, run_id, round_no = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
k = 0
project = Project.open(path)
mids = [m.id for m in project.micrographs()]
first = True
while True:
    for mid in mids:
        code = k % 997
        n = 50 + (code * 7 + mid) % 150
        project.store_detections(run_id, mid, [
            Detection(i, round_no, i + 10, round_no + 10, 1 + i % 3, code / 1000)
            for i in range(n)])
        project.set_manual_boxes(mid, [Box(code, j, code + 5, j + 5, 2) for j in range(k % 13)])
        if first:
            print("ready", flush=True)
            first = False
        k += 1
"""


def expected_count(code: int, mid: int) -> int:
    return 50 + (code * 7 + mid) % 150


def check_whole_transactions(path: Path, run_id: int, mids: list[int]
                             ) -> dict[int, tuple[int, int]]:
    """Integrity check plus the all-or-nothing invariants; returns (round, code) per
    micrograph."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        codes = {}
        for mid in mids:
            rows = conn.execute("SELECT x1, y1, score FROM detections WHERE run_id = ? AND "
                                "micrograph_id = ? ORDER BY x1", (run_id, mid)).fetchall()
            writes = {(int(y1), round(score * 1000)) for _, y1, score in rows}
            assert len(writes) == 1, f"micrograph {mid} mixes writes {sorted(writes)}"
            round_no, code = writes.pop()
            assert [r[0] for r in rows] == list(range(expected_count(code, mid)))
            boxes = conn.execute("SELECT x1 FROM manual_boxes WHERE micrograph_id = ?",
                                 (mid,)).fetchall()
            assert len({b[0] for b in boxes}) <= 1, f"manual boxes of {mid} mix writes"
            codes[mid] = (round_no, code)
        return codes
    finally:
        conn.close()


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_sigkill_mid_write_keeps_whole_transactions(tmp_path):
    path = tmp_path / "crash test ü" / "p.temnet"
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
        tifffile.imwrite(folder / f"m{i}.tif",
                         np.random.default_rng(i).integers(60, 190, (32, 32), dtype=np.uint8))
    with Project.create(path) as project:
        mids = [m.id for m in project.add_folder(folder).added]
        run_id = project.start_run("crash-test", {}, 0.0).id
        for mid in mids:  # a first whole write for every micrograph (round 100, code 0)
            project.store_detections(run_id, mid, [Detection(i, 100, i + 10, 110, 1, 0.0)
                                                   for i in range(expected_count(0, mid))])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    rng = random.Random(20240501)
    started = time.monotonic()
    for round_no in range(8):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(run_id),
                                  str(round_no)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env, cwd=str(tmp_path))
        try:
            ready, _, _ = select.select([child.stdout], [], [], 60)
            assert ready and child.stdout.readline() == b"ready\n", child.stderr.read()
            deadline = time.monotonic() + rng.uniform(0.02, 0.4)
            with Project.open(path) as other:  # a second user while the child writes
                other.add_experiment(f"parent round {round_no}")
                for mid in mids:
                    found = other.detections(run_id, mid)
                    codes = {round(d.score * 1000) for d in found}
                    assert len(codes) == 1 and len(found) == expected_count(codes.pop(), mid)
            time.sleep(max(0.0, deadline - time.monotonic()))
            assert child.poll() is None, child.stderr.read()
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            child.stdout.close()
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        codes = check_whole_transactions(path, run_id, mids)
        # the write committed before "ready" survived the kill (durability)
        assert codes[mids[0]][0] == round_no
        with Project.open(path) as project:  # and the app opens it as usual
            assert project.detected_micrograph_ids(run_id) == set(mids)
            counts = project.detection_counts(run_id)
            assert all(sum(counts[m].values()) == expected_count(codes[m][1], m) for m in mids)
    with Project.open(path) as project:
        assert [e.name for e in project.experiments()][1:] == [
            f"parent round {i}" for i in range(8)]
    assert time.monotonic() - started < 120
