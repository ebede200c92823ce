"""``temnet simulate`` end to end through a subprocess."""

import subprocess
import sys

from temnet_app.core.annotations import read_via_csv
from temnet_app.core.micrographs import read_micrograph
from temnet_app.simulator import PRESETS


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "temnet_app", "simulate", *args],
                          capture_output=True, text=True, timeout=300)


def test_simulate_writes_micrographs_and_labels(tmp_path):
    out = tmp_path / "sims"
    result = run_cli("--out", str(out), "--n", "2", "--preset", "PR-D25A", "--seed", "3",
                     "--magnification", "25000", "--width", "640", "--height", "480",
                     "--density", "30", "--info-band")
    assert result.returncode == 0, result.stderr
    tiffs = sorted(out.glob("*.tif"))
    assert [p.name for p in tiffs] == ["sim_PR-D25A_3_000.tif", "sim_PR-D25A_3_001.tif"]
    labels = read_via_csv(out / "annotations.csv")
    assert set(labels) == {p.name for p in tiffs}
    assert all(b.class_id == 3 for boxes in labels.values() for b in boxes)
    for path in tiffs:
        assert str(path) in result.stdout
        info = read_micrograph(path).info
        assert info.magnification == 25000.0 and info.band_rows > 0
        assert (info.width, info.height + info.band_rows) == (640, 480)
    assert "annotations.csv" in result.stdout


def test_list_presets():
    result = run_cli("--list-presets")
    assert result.returncode == 0
    for name in PRESETS:
        assert name in result.stdout


def test_bad_preset_is_a_one_line_error():
    result = run_cli("--out", "unused", "--preset", "no-such-virus")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no-such-virus" in result.stderr and "Traceback" not in result.stderr


def test_bad_numbers_exit_2(tmp_path, capsys):
    """Argument errors (argparse, in process to keep the test fast) and --out missing."""
    from temnet_app.cli import main

    for args in (["--n", "0"], ["--magnification", "abc"], ["--seed", "-1"],
                 ["--density", "-5"], ["--magnification", "10"]):
        try:
            code = main(["simulate", "--out", str(tmp_path / "x"), *args])
        except SystemExit as exit_:
            code = exit_.code
        assert code == 2, args
        assert "Traceback" not in capsys.readouterr().err
    assert main(["simulate", "--n", "1"]) == 2
    assert "--out" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
