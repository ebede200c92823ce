"""``temnet self-test`` from source: every step reported, exit status 0; a broken step is
reported and exits 1."""

import io
import os
import subprocess
import sys


def test_self_test_from_source_passes():
    result = subprocess.run([sys.executable, "-m", "temnet_app", "self-test"],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    lines = result.stdout.splitlines()
    assert [line.split(" (")[0] for line in lines[:5]] == [
        "ok window", "ok micrographs", "ok detection", "ok threshold", "ok export"]
    assert "by temnet-gn-pellet@5" in lines[2] and "a PDF of" in lines[4]
    assert lines[-1].startswith("self-test passed in ")


def test_a_failing_step_is_reported(monkeypatch):
    import temnet_app.gui.self_test as self_test

    def broken(work, state):
        raise self_test.SelfTestFailed("no micrographs today")

    monkeypatch.setattr(self_test, "_open_window", lambda work, state: "skipped")
    monkeypatch.setattr(self_test, "_make_project", broken)
    out = io.StringIO()
    assert self_test.run_self_test(out) == 1
    first, second = out.getvalue().splitlines()
    assert first == "ok window (0.0 s): skipped"
    assert second.startswith("FAILED micrographs (") and second.endswith(
        "): no micrographs today")
