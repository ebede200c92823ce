"""`temnet report` and `temnet stats` end to end, through a subprocess, on a small project with
a fake detection run stored through the Project API."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tifffile
from pypdf import PdfReader

from temnet_app.core.boxes import Box, Detection
from temnet_app.core.project import Project


def temnet(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "temnet_app", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def project_path(tmp_path_factory):
    """WT: 2 micrographs with manual counts; run 1 stores detections for both.
    Counted at 0.5: predicted WT (1, 3, 0) + (0, 2, 1) = (1, 5, 1); manual (1, 4, 0) +
    (1, 2, 1) = (2, 6, 1)."""
    root = tmp_path_factory.mktemp("cli")
    (root / "WT").mkdir()
    rng = np.random.default_rng(5)
    for n in ("a.tif", "b.tif"):
        tifffile.imwrite(root / "WT" / n, rng.integers(50, 200, (90, 120), dtype=np.uint8))
    path = root / "study.temnet"
    with Project.create(path) as proj:
        a, b = proj.add_folder(root / "WT").added
        run = proj.start_run("fake-model", {"nms_iou": 0.3}, 0.1)
        d = lambda c, s, x=0: Detection(x, 0, x + 10, 10, c, s)  # noqa: E731
        proj.store_detections(run.id, a.id, [d(1, 0.9), d(2, 0.8), d(2, 0.7, 20), d(2, 0.6, 40),
                                             d(3, 0.2)])
        proj.store_detections(run.id, b.id, [d(2, 0.99), d(2, 0.51, 20), d(3, 0.5, 40)])
        proj.finish_run(run.id, "complete")
        proj.set_manual_counts(a.id, {"eccentric": 1, "mature": 4, "immature": 0})
        proj.set_manual_boxes(b.id, [Box(0, 0, 10, 10, 1), Box(20, 0, 30, 10, 2),
                                     Box(40, 0, 50, 10, 2), Box(60, 0, 70, 10, 3)])
    return path


def expected_rmse():
    pred = np.array([1, 5, 1]) / 7 * 100
    manual = np.array([2, 6, 1]) / 9 * 100
    return float(np.sqrt(np.mean((pred - manual) ** 2)))


def test_report_writes_csvs_and_pdf(project_path, tmp_path):
    out = tmp_path / "out"
    result = temnet("report", project_path, "--threshold", "0.5", "--out", out)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split()
    assert [p.rsplit("/", 1)[-1] for p in printed] == [
        "study_detections.csv", "study_micrograph_counts.csv", "study_experiment_summary.csv",
        "study_report.pdf"]
    detections = pd.read_csv(out / "study_detections.csv")
    assert len(detections) == 7 and set(detections["model_id"]) == {"fake-model"}
    summary = pd.read_csv(out / "study_experiment_summary.csv")
    assert summary["pred_virions"].tolist() == [7] and summary["manual_virions"].tolist() == [9]
    assert summary["rmse_pp"].iloc[0] == pytest.approx(expected_rmse(), abs=1e-9)
    text = PdfReader(out / "study_report.pdf").pages[0].extract_text()
    assert f"{expected_rmse():.2f}" in text and "fake-model" in text


def test_stats_prints_the_summary(project_path):
    result = temnet("stats", project_path, "--threshold", "0.5")
    assert result.returncode == 0, result.stderr
    assert "run #1 (model fake-model, complete), confidence >= 0.50" in result.stdout
    assert f"{expected_rmse():.2f}" in result.stdout
    lines = [ln.split() for ln in result.stdout.splitlines()]
    assert ["WT", "predicted", "2", "7"] in [ln[:4] for ln in lines]
    assert ["WT", "manual", "2", "9"] in [ln[:4] for ln in lines]
    higher = temnet("stats", project_path, "--threshold", "0.75")
    assert ["WT", "predicted", "2", "3"] in [ln.split()[:4] for ln in higher.stdout.splitlines()]


def test_missing_project_and_bad_arguments_exit_2_with_one_line(tmp_path):
    for command in (["stats", tmp_path / "nope.temnet"],
                    ["report", tmp_path / "nope.temnet", "--out", tmp_path / "o"]):
        result = temnet(*command)
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0 and "nope.temnet" in result.stderr
    bad = temnet("stats", tmp_path / "x.temnet", "--threshold", "1.5")
    assert bad.returncode == 2 and "between 0 and 1" in bad.stderr


def test_unknown_run_and_project_without_data(project_path, tmp_path):
    result = temnet("stats", project_path, "--run", "9")
    assert result.returncode == 2 and "no detection run with id 9" in result.stderr
    (tmp_path / "E").mkdir()
    tifffile.imwrite(tmp_path / "E" / "x.tif", np.full((60, 80), 100, np.uint8))
    with Project.create(tmp_path / "empty.temnet") as proj:
        (m,) = proj.add_folder(tmp_path / "E").added
    result = temnet("stats", tmp_path / "empty.temnet")
    assert result.returncode == 2 and "nothing to summarise" in result.stderr
    with Project.open(tmp_path / "empty.temnet") as proj:
        proj.set_manual_counts(m.id, {"mature": 3})
    result = temnet("stats", tmp_path / "empty.temnet")
    assert result.returncode == 0 and "manual data only" in result.stderr
    assert ["E", "manual", "1", "3"] in [ln.split()[:4] for ln in result.stdout.splitlines()]


def test_stats_run_newest_takes_each_micrographs_newest_run(project_path):
    with Project.open(project_path) as proj:
        first = proj.micrographs()[0]
        newer = proj.start_run("other-model", {}, 0.05)
        proj.store_detections(newer.id, first.id, [])      # nothing found there this time
        proj.finish_run(newer.id, "complete")
    latest = temnet("stats", project_path, "--threshold", "0.5")
    newest = temnet("stats", project_path, "--threshold", "0.5", "--run", "newest")
    assert latest.returncode == newest.returncode == 0, newest.stderr
    assert "run #2 (model other-model" in latest.stdout
    assert "newest run: runs #1, #2" in newest.stdout
    rows = {tuple(ln.split()[:2]): ln.split() for ln in newest.stdout.splitlines()
            if ln.split()[:2] == ["WT", "predicted"]}
    assert rows[("WT", "predicted")][:4] != ["WT", "predicted", "2", "7"]  # run 2 changed one
    bad = temnet("stats", project_path, "--run", "latest")
    assert bad.returncode == 2 and "expected a run id or 'newest'" in bad.stderr
