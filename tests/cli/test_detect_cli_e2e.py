"""End to end: the real detector (random weights, compact preset) through `temnet predict`,
`temnet detect` and `temnet evaluate` as subprocesses. Slow: each process imports TensorFlow."""

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from temnet_app.core.boxes import Box

pytestmark = pytest.mark.slow

H, W = 600, 800
VIRIONS = ((200, 200, 120), (550, 300, 130), (300, 450, 110))   # centre x, centre y, radius


def _simulated_image() -> np.ndarray:
    """Grey background, dark membrane rings with a dense core, Gaussian noise (seeded)."""
    rng = np.random.default_rng(0)
    img = np.full((H, W), 150.0)
    yy, xx = np.mgrid[:H, :W]
    for cx, cy, r in VIRIONS:
        d = np.hypot(xx - cx, yy - cy)
        img[np.abs(d - r) < 6] = 60
        img[d < 0.4 * r] = 70
    img += rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _cli(*args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "temnet_app", *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from temnet_app.detector.inference import Detector, make_card
    from temnet_app.detector.model.config import compact

    folder = tmp_path_factory.mktemp("model") / "random-compact"
    config = compact()
    detector = Detector.from_config(config, seed=3, name="random-compact", version="0")
    detector.save(folder, card=make_card(config, "random-compact", "0",
                                         training="random weights, for tests only"))
    return folder


def test_predict_detect_evaluate_with_the_real_detector(model_dir, tmp_path):
    images = tmp_path / "WT"
    images.mkdir()
    tifffile.imwrite(images / "sim.tif", _simulated_image())

    # predict
    out = tmp_path / "out"
    result = _cli("predict", images / "sim.tif", "--model", model_dir, "--out", out,
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader(io.StringIO((out / "detections.csv").read_text())))
    for row in rows:
        x1, y1, x2, y2 = (float(row[k]) for k in ("x1", "y1", "x2", "y2"))
        assert 0 <= x1 < x2 <= W and 0 <= y1 < y2 <= H
        assert row["filename"] == "sim.tif"
        assert row["class"] in ("eccentric", "mature", "immature")
        assert 0.05 <= float(row["score"]) <= 1.0
    counts = list(csv.DictReader(io.StringIO((out / "counts.csv").read_text())))
    assert [c["filename"] for c in counts] == ["sim.tif"]
    expected = sum(1 for r in rows if float(r["score"]) >= 0.5)
    assert sum(int(counts[0][k]) for k in ("eccentric", "mature", "immature")) == expected
    info = json.loads((out / "predict_info.json").read_text())
    assert info["model_id"] == "random-compact@0" and len(rows) == info["files"][0]["detections"]
    assert info["files"][0]["magnification"] == 30000.0
    assert info["settings"]["mode"] == "whole"        # the compact preset's own mode

    # --mode overrides the model's tiling mode, and the provenance says so
    tiled = tmp_path / "tiled"
    result = _cli("predict", images / "sim.tif", "--model", model_dir, "--out", tiled,
                  "--mode", "tiled", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tiled / "predict_info.json").read_text())["settings"]["mode"] == "tiled"
    assert info["settings"]["config"]["flip_average"] is False          # the card's setting

    # --flips averages over mirrored copies: recorded, and a different answer than one pass
    flipped = tmp_path / "flipped"
    result = _cli("predict", images / "sim.tif", "--model", model_dir, "--out", flipped,
                  "--flips", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    flip_info = json.loads((flipped / "predict_info.json").read_text())
    assert flip_info["settings"]["config"]["flip_average"] is True
    flip_rows = list(csv.DictReader(io.StringIO((flipped / "detections.csv").read_text())))
    assert sorted(r["score"] for r in flip_rows) != sorted(r["score"] for r in rows)

    # detect into a project
    from temnet_app.core.project import Project

    project_path = tmp_path / "p.temnet"
    with Project.create(project_path) as project:
        project.add_folder(images)
    result = _cli("detect", project_path, "--model", model_dir, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "complete" in result.stdout
    with Project.open(project_path) as project:
        (run,) = project.runs()
        (micrograph,) = project.micrographs()
        assert run.status == "complete" and run.model_id == "random-compact@0"
        assert project.detected_micrograph_ids(run.id) == {micrograph.id}
        assert len(project.detections(run.id, micrograph.id)) == len(rows)

    # evaluate against hand-made labels
    from temnet_app.core.annotations import write_via_csv

    labels = tmp_path / "labels.csv"
    write_via_csv(labels, {"sim.tif": [Box(cx - r, cy - r, cx + r, cy + r, 2)
                                       for cx, cy, r in VIRIONS]})
    result = _cli("evaluate", "--images", images, "--labels", labels, "--model", model_dir,
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    mature = next(line for line in lines if line.startswith("mature")).split()
    assert mature[-2] == "3"                                   # GT column
    assert next(line for line in lines if line.startswith("overall"))
    assert "confusion" in result.stdout
