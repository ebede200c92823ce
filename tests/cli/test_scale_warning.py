"""`temnet detect` warns when a micrograph's stated scale looks wrong and says which fits
(the shipped model, a simulated 30,000x micrograph filed as 120,000x and as 30,000x)."""

import pytest
import tifffile

from temnet_app.cli import main

pytest.importorskip("tensorflow")


def _project(tmp_path, capsys, magnification):
    from temnet_app.simulator import preset_params, simulate

    folder = tmp_path / f"at{magnification}"
    folder.mkdir()
    sim = simulate(preset_params("dataset", width=1600, height=1200, seed=777_020,
                                 density=(25.0, 30.0)))
    tifffile.imwrite(folder / "wt_1.tif", sim.image)          # no scale in the file
    path = tmp_path / f"at{magnification}.temnet"
    assert main(["new", str(path), str(folder), "--magnification", str(magnification)]) == 0
    capsys.readouterr()
    return path


def test_a_wrong_magnification_gets_a_warning_with_the_one_that_fits(tmp_path, capsys):
    path = _project(tmp_path, capsys, 120000)
    assert main(["detect", str(path)]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, err
    assert warnings[0].startswith("warning: wt_1.tif: the scale looks wrong. At the stated "
                                  "120,000x (0.14 nm/px)")
    assert "smaller than expected. It is most confident at about 30,000x (0.561 nm/px" \
        in warnings[0]


def test_the_right_magnification_gets_none(tmp_path, capsys):
    path = _project(tmp_path, capsys, 30000)
    assert main(["detect", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err
