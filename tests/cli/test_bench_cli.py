"""`temnet bench` times one configuration per child process; --flips reaches the child and the
detector (four passes), and the JSON line says which was timed. Slow: imports TensorFlow."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _one(*extra):
    from temnet_app.jobs import default_model_dir

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "temnet_app", "bench", "--one", "model:whole",
                           "--model", str(default_model_dir()), "--repeats", "1", *extra],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads([ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1])


def test_bench_times_the_model_with_and_without_flips():
    one, four = _one("--no-flips"), _one("--flips")
    assert one["flips"] is False and four["flips"] is True
    assert one["mode"] == four["mode"] == "whole" and one["detections"] > 20
    assert one["median_s"] > 0 and four["median_s"] > 0
