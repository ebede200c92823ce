"""detect / predict / evaluate commands: error paths (one line, exit 2), output files, table."""

import csv
import io
import json

import numpy as np
import pytest
import tifffile

from temnet_app.cli import main
from temnet_app.commands._common import TextProgress, percent
from temnet_app.commands.evaluate import format_table
from temnet_app.commands.predict import write_outputs
from temnet_app.core.analysis import evaluate
from temnet_app.core.boxes import DEFAULT_SCHEME, Box, Detection
from temnet_app.core.scale import resolve_scale
from temnet_app.jobs import FilePrediction


def _one_line_error(capsys, code, *needles):
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def test_detect_missing_project(tmp_path, capsys):
    code = main(["detect", str(tmp_path / "nope.temnet"), "--model", str(tmp_path)])
    _one_line_error(capsys, code, "temnet detect: error", "nope.temnet")


@pytest.fixture
def small_project(tmp_path):
    from temnet_app.core.project import Project

    folder = tmp_path / "WT"
    folder.mkdir()
    tifffile.imwrite(folder / "a.tif", np.full((40, 50), 90, np.uint8))
    path = tmp_path / "p.temnet"
    with Project.create(path) as project:
        project.add_folder(folder)
    return path


def test_detect_missing_model_is_one_line(small_project, tmp_path, capsys):
    code = main(["detect", str(small_project), "--model", str(tmp_path / "no-model")])
    _one_line_error(capsys, code, "no-model", "does not exist", "temnet train")


def test_detect_unknown_experiment_lists_known_ones(small_project, tmp_path, capsys):
    code = main(["detect", str(small_project), "--experiment", "KO", "--model", str(tmp_path)])
    _one_line_error(capsys, code, "'KO'", "WT")


def test_predict_error_paths(tmp_path, capsys):
    code = main(["predict", str(tmp_path / "x.tif"), "--out", str(tmp_path / "out")])
    _one_line_error(capsys, code, "temnet predict: error", "x.tif")
    img = tmp_path / "a.tif"
    tifffile.imwrite(img, np.zeros((20, 20), np.uint8))
    code = main(["predict", str(img), "--out", str(tmp_path / "out"),
                 "--model", str(tmp_path / "none")])
    _one_line_error(capsys, code, "none", "does not exist")
    with pytest.raises(SystemExit) as stop:     # argparse: usage, then one error line
        main(["predict", str(img), "--out", str(tmp_path / "o"), "--threshold", "2"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("temnet predict: error: argument --threshold: must be "
                                    "between 0 and 1, got 2") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_evaluate_error_paths(tmp_path, capsys):
    code = main(["evaluate", "--images", str(tmp_path), "--labels", str(tmp_path / "l.csv")])
    _one_line_error(capsys, code, "temnet evaluate: error", "l.csv")
    code = main(["evaluate", "--images", str(tmp_path / "imgs"), "--labels", "x.csv"])
    _one_line_error(capsys, code, "imgs")


class _CardOnly:
    model_id = "fake@1"
    score_floor = 0.05
    scheme = DEFAULT_SCHEME

    def settings(self):
        return {"mode": "tiled", "window": 1024}


def test_predict_writes_boxes_counts_and_provenance(tmp_path):
    results = [
        FilePrediction(path=tmp_path / "a.tif", scale=resolve_scale(), width=100, height=80,
                       detections=[Detection(1, 2, 30.5, 40.25, 2, 0.9),
                                   Detection(50, 10, 90, 70, 3, 0.5),
                                   Detection(5, 5, 20, 20, 1, 0.2)]),
        FilePrediction(path=tmp_path / "bad.tif", error="cannot read bad.tif"),
        FilePrediction(path=tmp_path / "b.tif", width=10, height=10, detections=[],
                       scale=resolve_scale(override_pixel_size=0.28, file_magnification=20000)),
    ]
    out = tmp_path / "out"
    written = write_outputs(out, results, _CardOnly(), threshold=0.5)
    assert [p.name for p in written] == ["detections.csv", "counts.csv", "predict_info.json"]
    rows = list(csv.reader(io.StringIO((out / "detections.csv").read_text())))
    assert rows == [["filename", "x1", "y1", "x2", "y2", "class", "score"],
                    ["a.tif", "1.00", "2.00", "30.50", "40.25", "mature", "0.9000"],
                    ["a.tif", "50.00", "10.00", "90.00", "70.00", "immature", "0.5000"],
                    ["a.tif", "5.00", "5.00", "20.00", "20.00", "eccentric", "0.2000"]]
    counts = {r["filename"]: r for r in csv.DictReader(io.StringIO((out / "counts.csv")
                                                                   .read_text()))}
    assert set(counts) == {"a.tif", "b.tif"}
    a = counts["a.tif"]     # threshold 0.5 keeps 0.9 and 0.5 (>=), drops the 0.2 eccentric
    assert (int(a["eccentric"]), int(a["mature"]), int(a["immature"])) == (0, 1, 1)
    info = json.loads((out / "predict_info.json").read_text())
    assert info["model_id"] == "fake@1" and info["count_threshold"] == 0.5
    assert info["files"][1]["error"] == "cannot read bad.tif"
    assert info["files"][2]["magnification"] == 20000.0
    assert info["files"][2]["pixel_size_nm"] == 0.28
    assert info["files"][2]["pixel_size_source"] == "set for this micrograph"
    assert info["files"][2]["magnification_source"] == "file"
    assert info["files"][0]["pixel_size_nm"] == pytest.approx(0.561)
    assert info["files"][1]["pixel_size_nm"] is None
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_format_table_matches_hand_computed_metrics():
    # class 2: 2 GT, predictions TP 0.9 and FP 0.8 -> AP 1/2, P 50.0, R 50.0, F1 50.0
    # class 1: 1 GT, no prediction -> AP 0; class 3: no GT -> "-"
    truths = {"a": [Box(0, 0, 10, 10, 2), Box(100, 0, 110, 10, 2), Box(200, 0, 210, 10, 1)]}
    preds = {"a": [Detection(0, 0, 10, 10, 2, 0.9), Detection(300, 0, 310, 10, 2, 0.8)]}
    ev = evaluate(preds, truths, DEFAULT_SCHEME.ids)
    lines = format_table(ev, DEFAULT_SCHEME, title="T").splitlines()
    assert lines[0] == "T"
    rows = {line.split()[0]: line.split() for line in lines[3:9] if line[:1].isalpha()}
    assert rows["eccentric"] == ["eccentric", "0.0", "-", "0.0", "0.0", "1", "0"]
    assert rows["mature"] == ["mature", "50.0", "50.0", "50.0", "50.0", "2", "2"]
    assert rows["immature"] == ["immature", "-", "-", "-", "-", "0", "0"]
    # overall: mAP (0 + 1/2) / 2 = 25.0; TP 1, FP 1, FN 2 -> P 50.0, R 33.3, F1 40.0
    overall = next(line for line in lines if line.startswith("overall")).split()
    assert overall == ["overall", "25.0", "50.0", "33.3", "40.0", "3", "2"]
    matrix = lines[-5:]
    assert matrix[0].split() == ["background", "eccentric", "mature", "immature"]
    assert matrix[1].split() == ["background", "0", "0", "1", "0"]    # one spurious mature
    assert matrix[2].split() == ["eccentric", "1", "0", "0", "0"]     # eccentric missed
    assert matrix[3].split() == ["mature", "1", "0", "1", "0"]        # one found, one missed
    assert matrix[4].split() == ["immature", "0", "0", "0", "0"]


def test_text_progress_on_a_pipe_writes_few_lines():
    stream = io.StringIO()
    bar = TextProgress(stream, width=10)
    for i in range(101):
        bar(i / 100, "working")
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 21                      # every 5% from 0 to 100
    assert lines[0] == "[..........]   0.0%  working"
    assert lines[-1] == "[##########] 100.0%  working"
    assert percent(float("nan")) == "-" and percent(0.8) == "80.0"


def test_detect_picks_micrographs_by_name(tmp_path, capsys, monkeypatch):
    from temnet_app.commands.detect import pick_micrographs
    from temnet_app.core.errors import ProjectError
    from temnet_app.core.project import Project

    for experiment in ("WT", "KO"):
        folder = tmp_path / experiment
        folder.mkdir()
        for i in range(2):
            tifffile.imwrite(folder / f"m{i}.tif",
                             np.full((40, 50), 80 + 10 * i + len(experiment), np.uint8))
    with Project.create(tmp_path / "p.temnet") as project:
        project.add_folder(tmp_path / "WT")
        project.add_folder(tmp_path / "KO")
        every = project.micrographs()
        chosen = pick_micrographs(project, every, ["KO/m1.tif", "wt/M0.TIF"])
        assert [(project.experiment(m.experiment_id).name, m.name) for m in chosen] == \
            [("KO", "m1.tif"), ("WT", "m0.tif")]
        with pytest.raises(ProjectError, match="names 2 micrographs"):
            pick_micrographs(project, every, ["m0.tif"])
        with pytest.raises(ProjectError, match="no micrograph 'x.tif'"):
            pick_micrographs(project, every, ["x.tif"])
    code = main(["detect", str(tmp_path / "p.temnet"), "--micrograph", "nope.tif",
                 "--model", str(tmp_path)])
    _one_line_error(capsys, code, "no micrograph 'nope.tif'")


def test_detect_command_of_the_window_is_what_the_cli_takes(tmp_path):
    """jobs.detect_command writes --experiment for a whole experiment, --micrograph else."""
    import shlex

    from temnet_app.cli import build_parser
    from temnet_app.core.project import Micrograph
    from temnet_app.jobs import detect_command

    def mic(i, experiment):
        return Micrograph(i, experiment, f"E{experiment}/m{i}.tif", 10, 10, "x" * 64, None,
                          None, None, "t")

    every = [mic(1, 1), mic(2, 1), mic(3, 2)]
    names = {1: "WT", 2: "KO 2"}
    whole = detect_command(tmp_path / "p.temnet", every, names, every)
    one = detect_command(tmp_path / "p.temnet", every[:2], names, every, tmp_path / "model")
    some = detect_command(tmp_path / "p.temnet", [every[0], every[2]], names, every)
    assert whole == f"temnet detect {tmp_path / 'p.temnet'}"
    assert one.endswith("--experiment WT") and f"--model {tmp_path / 'model'}" in one
    assert "--micrograph WT/m1.tif --micrograph 'KO 2/m3.tif'" in some
    args = build_parser().parse_args(shlex.split(some)[1:])
    assert args.micrograph == ["WT/m1.tif", "KO 2/m3.tif"] and args.flips is None
    for flips, flag in ((True, "--flips"), (False, "--no-flips")):
        line = detect_command(tmp_path / "p.temnet", every, names, every, None, flips)
        assert line == f"temnet detect {tmp_path / 'p.temnet'} {flag}"
        assert build_parser().parse_args(shlex.split(line)[1:]).flips is flips
