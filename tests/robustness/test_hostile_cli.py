"""Hostile command lines: bad arguments refused before any model or TensorFlow loads, output
locations checked before the work starts, TensorFlow's own log lines kept out of the terminal
(in the log file; ``--verbose`` shows them), and report temporaries of a killed run removed."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import tifffile
from hostile import (TF_NOISE, assert_clear_error, assert_no_traceback, read_only,
                     run_in_process, run_process, snapshot)

ARGUMENT_MISUSE = [
    (["predict", "a.tif", "--out", "o", "--magnification", "0"], "outside 1,000x-1,000,000x"),
    (["predict", "a.tif", "--out", "o", "--magnification", "abc"], "not a number: 'abc'"),
    (["predict", "a.tif", "--out", "o", "--magnification", "1e9"], "outside"),
    (["predict", "a.tif", "--out", "o", "--magnification", "nan"], "outside"),
    (["predict", "a.tif", "--out", "o", "--threshold", "-0.1"], "between 0 and 1"),
    (["predict", "a.tif", "--out", "o", "--mode", "sideways"], "invalid choice"),
    (["predict", "a.tif"], "--out"),
    (["evaluate", "--images", ".", "--labels", "l.csv", "--magnification", "-5"], "outside"),
    (["bench", "--repeats", "-1"], "must be at least 1"),
    (["bench", "--repeats", "0"], "must be at least 1"),
    (["train", "--data", "d", "--out", "m", "--epochs", "0"], "must be at least 1"),
    (["train", "--data", "d", "--out", "m", "--epochs", "1.5"], "whole number"),
    (["train", "--data", "d", "--out", "m", "--batch-size", "-2"], "must be at least 0"),
    (["detect", "p.temnet", "--resume", "0"], "must be at least 1"),
    (["detect", "p.temnet", "--resume", "x"], "whole number"),
    (["stats", "p.temnet", "--threshold", "2"], "between 0 and 1"),
    (["report", "p.temnet", "--out", "r", "--run", "abc"], "run id or 'newest'"),
    (["simulate", "--n", "0"], "at least 1"),
    (["demo", "--no-such-flag"], "unrecognized arguments"),
]


@pytest.mark.parametrize("argv, fragment", ARGUMENT_MISUSE,
                         ids=[" ".join(a[:1] + a[-2:]) for a, _ in ARGUMENT_MISUSE])
def test_argument_misuse_is_one_usage_error(argv, fragment, capsys):
    out = run_in_process(capsys, *argv)
    assert_no_traceback(out)
    assert out.code == 2
    last = out.err.rstrip().splitlines()[-1]
    # sub-command errors name the command; an unknown option is the top-level parser's
    assert last.startswith((f"temnet {argv[0]}: error: ", "temnet: error: ")), out.err
    assert fragment in last, out.err


def test_arguments_are_checked_before_tensorflow_loads(tmp_path):
    """In a fresh process: a bad --magnification never imports TensorFlow."""
    import subprocess

    code = ("import sys\nfrom temnet_app.cli import main\n"
            "try:\n    main(['predict', 'a.tif', '--out', 'o', '--magnification', '0'])\n"
            "except SystemExit as stop:\n    print('exit', stop.code)\n"
            "print('tensorflow loaded:', 'tensorflow' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert "exit 2" in done.stdout and "tensorflow loaded: False" in done.stdout, done


def _image(path):
    tifffile.imwrite(path, np.random.default_rng(0).integers(80, 170, (200, 300), np.uint8))
    return path


def test_predict_output_that_is_a_file_is_refused_before_detection(tmp_path, capsys,
                                                                   monkeypatch):
    import temnet_app.jobs as jobs

    loads = []
    monkeypatch.setattr(jobs, "load_detector", lambda *a: loads.append(a))
    image = _image(tmp_path / "a.tif")
    (tmp_path / "taken").write_text("keep me")
    out = run_in_process(capsys, "predict", image, "--out", tmp_path / "taken")
    assert_clear_error(out, "predict", "output folder", "taken is a file")
    out = run_in_process(capsys, "predict", image, "--out", tmp_path / "taken" / "sub")
    assert_clear_error(out, "predict", "taken is a file")
    out = run_in_process(capsys, "predict", image, "--out", "/proc/temnet-x")
    assert_clear_error(out, "predict", "cannot create the output folder /proc/temnet-x")
    assert loads == [] and (tmp_path / "taken").read_text() == "keep me"


def test_output_folder_without_write_permission(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    image = _image(tmp_path / "a.tif")
    with read_only(locked):
        out = run_in_process(capsys, "predict", image, "--out", locked / "results")
        assert_clear_error(out, "predict", "cannot create the output folder")
        out = run_in_process(capsys, "predict", image, "--out", locked)
        assert_clear_error(out, "predict", "cannot write into the output folder")


def test_demo_output_problems(tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    out = run_in_process(capsys, "demo", "--out", tmp_path / "a_file" / "x.temnet")
    assert_clear_error(out, "demo", "a_file is a file")
    (tmp_path / "notes.temnet").write_text("my notes, not a project")
    out = run_in_process(capsys, "demo", "--out", tmp_path / "notes.temnet")
    assert_clear_error(out, "demo", "notes.temnet")
    assert (tmp_path / "notes.temnet").read_text() == "my notes, not a project"
    (tmp_path / "folder.temnet").mkdir()
    out = run_in_process(capsys, "demo", "--out", tmp_path / "folder.temnet")
    assert_clear_error(out, "demo", "is a folder")


def test_report_output_problems_and_stale_temporaries(tmp_path, capsys):
    from temnet_app.core.boxes import Detection
    from temnet_app.core.project import Project

    _image(tmp_path / "a.tif")
    with Project.create(tmp_path / "p.temnet") as project:
        m = project.add_micrograph(project.add_experiment("WT").id, tmp_path / "a.tif")
        run = project.start_run("m@1", {}, 0.05)
        project.store_detections(run.id, m.id, [Detection(1, 1, 50, 50, 2, 0.9)])
        project.finish_run(run.id, "complete")
    (tmp_path / "file").write_text("x")
    before = snapshot(tmp_path)
    out = run_in_process(capsys, "report", tmp_path / "p.temnet", "--out", tmp_path / "file")
    assert_clear_error(out, "report", "report folder", "is a file")
    assert snapshot(tmp_path) == before
    reports = tmp_path / "reports"
    reports.mkdir()
    stale = reports / ".p_report.pdf.4000000.abc123.tmp"        # a killed writer's leftover
    stale.write_bytes(b"%PDF half")
    out = run_in_process(capsys, "report", tmp_path / "p.temnet", "--out", reports,
                         "--no-thumbnails")
    assert out.code == 0, out.err
    assert not stale.exists() and (reports / "p_report.pdf").is_file()
    assert not [p for p in reports.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_tensorflow_log_lines_go_to_the_log_file_not_the_terminal(tmp_path):
    image = _image(tmp_path / "a.tif")
    env = {"TF_CPP_MIN_LOG_LEVEL": "0", "TEMNET_DATA_DIR": str(tmp_path / "data")}
    out = run_process("predict", image, "--out", tmp_path / "out", env=env)
    assert out.code == 0, out.err
    for noise in TF_NOISE:
        assert noise not in out.err and noise not in out.out, (noise, out.err)
    log = (tmp_path / "data" / "logs" / "temnet-cli.log").read_text(errors="replace")
    assert "temnet 0" in log and "predict" in log
    assert any(noise in log for noise in TF_NOISE), log[-2000:]
    # a one-line error right after TensorFlow loaded is still one line
    bad = tmp_path / "bad.tif"
    bad.write_text("no image")
    out = run_process("predict", bad, "--out", tmp_path / "out2", env=env)
    assert_clear_error(out, "predict", "none of the 1 file(s)")
    assert not any(noise in out.err for noise in TF_NOISE), out.err
    verbose = run_process("predict", image, "--out", tmp_path / "out3", "--verbose", env=env)
    assert verbose.code == 0 and any(noise in verbose.err for noise in TF_NOISE)


def test_an_unexpected_error_is_one_line_naming_the_log(tmp_path, capsys, monkeypatch):
    """A bug (an exception that is not a TemnetError) prints one line, exit status 70; the
    traceback goes to the log file."""
    import temnet_app.commands.info as info

    def broken(args):
        raise RuntimeError("something the program did not expect")

    monkeypatch.setattr(info, "run", broken)
    monkeypatch.setenv("TEMNET_DATA_DIR", str(tmp_path / "data"))
    out = run_in_process(capsys, "info", tmp_path / "p.temnet")
    assert out.code == 70 and "Traceback" not in out.err
    assert out.err.strip() == (
        "temnet info: internal error: RuntimeError: something the program did not expect "
        f"(details in {tmp_path / 'data' / 'logs' / 'temnet-cli.log'})")
    log = (tmp_path / "data" / "logs" / "temnet-cli.log").read_text()
    assert "Traceback" in log and "something the program did not expect" in log
