"""`temnet new / add / import / info` end to end: a project made, filled and labelled from the
command line alone, then detected and reported on (real processes for the whole chain)."""

import csv

import numpy as np
import pytest
import tifffile

from temnet_app.cli import main
from temnet_app.core.project import Project


def _images(folder, n, seed=0, size=(300, 400)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        tifffile.imwrite(folder / f"{folder.name.lower()}_{i}.tif",
                         rng.integers(60, 190, size, np.uint8))
    return folder


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def test_new_add_import_info(tmp_path, capsys):
    wt, pr = _images(tmp_path / "WT", 2), _images(tmp_path / "PR", 3, seed=1)
    (wt / "notes.txt").write_text("grid 4")
    loose = _images(tmp_path / "loose", 2, seed=2)
    path = tmp_path / "study.temnet"

    code, out, err = _run(capsys, "new", path, wt, pr, "--magnification", "25000")
    assert code == 0, err
    assert out.strip() == (f"created {path}; added 5 micrograph(s), skipped 0; "
                           f"new experiment(s): WT, PR")
    assert f"ignored {wt / 'notes.txt'}: not a micrograph image file" in err
    code, _, err = _run(capsys, "new", path)
    assert code == 2 and "already exists" in err

    code, out, err = _run(capsys, "add", path, *sorted(loose.iterdir()), "--experiment", "WT",
                          "--magnification", "20000")
    assert code == 0 and out.strip() == "added 2 micrograph(s), skipped 0", err
    code, _, err = _run(capsys, "add", path, loose / "loose_0.tif")
    assert code == 2 and "no experiment selected" in err
    code, out, err = _run(capsys, "add", path, loose, "--experiment", "Drug X")
    assert code == 0 and "new experiment(s): Drug X" in out, err

    with Project.open(path) as project:
        wt_e = project.experiment_by_name("WT")
        assert wt_e.magnification == 25000.0
        mags = {m.name: project.magnification(m) for m in project.micrographs(wt_e.id)}
        assert mags == {"wt_0.tif": 25000.0, "wt_1.tif": 25000.0, "loose_0.tif": 20000.0,
                        "loose_1.tif": 20000.0}

    counts = tmp_path / "counts.csv"
    counts.write_text("filename,eccentric,mature,immature\npr_0.tif,1,5,2\npr_1.tif,0,3,1\n"
                      "unknown.tif,1,1,1\n")
    code, out, err = _run(capsys, "import", path, counts)
    assert code == 1 and out.strip() == ("imported counts for 2 micrograph(s); 1 file name(s) "
                                         "match no micrograph"), err
    assert "no micrograph named unknown.tif" in err
    via = tmp_path / "boxes.csv"
    with via.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["#filename", "file_size", "file_attributes", "region_count",
                         "region_id", "region_shape_attributes", "region_attributes"])
        writer.writerow(["wt_0.tif", 1, "{}", 1, 0,
                         '{"name":"rect","x":10,"y":20,"width":60,"height":60}',
                         '{"particle_class":"immature"}'])
    code, out, err = _run(capsys, "import", path, via, "--experiment", "WT")
    assert code == 0 and out.strip() == "imported boxes for 1 micrograph(s)", err
    code, _, err = _run(capsys, "import", path, via, "--experiment", "Nope")
    assert code == 2 and "no experiment named 'Nope'" in err

    code, out, _ = _run(capsys, "info", path)
    assert code == 0
    assert "WT: 4 micrographs, setting: 25,000x" in out
    assert "PR: 3 micrographs, setting: 25,000x" in out
    assert "camera calibration: the reference, 0.561 nm/px at 30,000x" in out
    assert "    0.673 nm/px: 2 micrographs (25,000x experiment setting, at the reference " \
           "calibration)" in out
    assert "    0.842 nm/px: 2 micrographs (20,000x set for this micrograph" in out
    assert "Drug X: 2 micrographs, setting: none" in out
    assert "manual (2 micrographs): eccentric 1, mature 8" in out

    # a pixel size decides over the magnification; the camera converts magnifications
    code, out, err = _run(capsys, "add", path, loose, "--experiment", "Fine",
                          "--pixel-size", "0.28", "--magnification", "30000",
                          "--camera", "0.3@30000")
    assert code == 0 and "camera calibration: 0.3 nm/px at 30,000x" in err, err
    code, out, _ = _run(capsys, "info", path, "--micrographs")
    assert "Fine: 2 micrographs, setting: 0.28 nm/px, 30,000x" in out
    assert ("      loose_0.tif: 400x300 px, 0.280 nm/px (the experiment's setting); 30,000x "
            "(experiment setting)") in out
    assert "    0.360 nm/px: 2 micrographs (25,000x experiment setting, at the camera " \
           "calibration 0.3 nm/px at 30,000x)" in out
    for option, value, message in (("--pixel-size", "0", "pixel size 0.0 nm is outside"),
                                   ("--camera", "0.3", "expected NM@MAGNIFICATION")):
        with pytest.raises(SystemExit) as stop:       # argparse: usage, then one error line
            main(["add", str(path), str(loose), option, value])
        assert stop.value.code == 2 and f"{option}: {message}" in capsys.readouterr().err


@pytest.mark.slow
def test_the_whole_chain_as_real_processes(tmp_path):
    import os
    import subprocess
    import sys

    def temnet(*argv):
        done = subprocess.run([sys.executable, "-m", "temnet_app", *map(str, argv)],
                              capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, TEMNET_DATA_DIR=str(tmp_path / "data")))
        assert "Traceback" not in done.stderr, done.stderr
        return done

    wt = _images(tmp_path / "WT", 2, size=(800, 1000))
    path = tmp_path / "s.temnet"
    assert temnet("new", path, wt).returncode == 0
    counts = tmp_path / "c.csv"
    counts.write_text("filename,eccentric,mature,immature\nwt_0.tif,0,2,1\n")
    assert temnet("import", path, counts).returncode == 0
    detect = temnet("detect", path)
    assert detect.returncode == 0 and "run #1 complete: 2 micrograph(s)" in detect.stdout
    on_cluster = temnet("detect", path, "--workers", "1")      # a local Dask cluster
    assert on_cluster.returncode == 0, on_cluster.stderr
    assert "Dask cluster" in on_cluster.stderr and "run #2 complete: 2 micrograph(s)" in \
        on_cluster.stdout
    report = temnet("report", path, "--out", tmp_path / "r", "--no-thumbnails")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "r" / "s_report.pdf").is_file()
    info = temnet("info", path)
    assert "#1 temnet-gn-pellet@5 complete, 2 micrographs" in info.stdout
    assert "#2 temnet-gn-pellet@5 complete, 2 micrographs" in info.stdout


def test_a_projects_classes_from_new_and_the_classes_command(tmp_path, capsys):
    path = tmp_path / "lab.temnet"
    code, out, err = _run(capsys, "new", path, _images(tmp_path / "WT", 1),
                          "--classes", "RiftValley:#E41A1C,Ebola")
    assert code == 0, err
    code, out, _ = _run(capsys, "classes", path)
    assert code == 0 and out.splitlines() == ["1  RiftValley           #e41a1c",
                                              "2  Ebola                #2ca02c"]
    code, out, _ = _run(capsys, "info", path)
    assert "  classes: RiftValley:#e41a1c, Ebola:#2ca02c" in out.splitlines()
    with Project.open(path) as project:
        m = project.micrographs()[0]
        project.set_manual_counts(m.id, {"Ebola": 3})
    # renaming and adding work; dropping a class the counts use is one line, nothing changes
    code, out, _ = _run(capsys, "classes", path, "RVFV,Ebola:#0000ff,Marburg")
    assert code == 0 and out.splitlines()[1:] == ["2  Ebola                #0000ff",
                                                  "3  Marburg              #f2c500"]
    code, out, err = _run(capsys, "classes", path, "RVFV")
    assert code != 0 and err.strip().splitlines()[-1] == (
        "temnet classes: error: manual counts use class 'Ebola', missing from RVFV")
    with pytest.raises(SystemExit) as stop:  # argparse: usage, then one error line
        main(["new", str(tmp_path / "other.temnet"), "--classes", "a,A"])
    assert stop.value.code == 2 and "argument --classes: class names must be unique" in \
        capsys.readouterr().err.strip().splitlines()[-1]
    with Project.open(path) as project:
        assert project.class_names == ("RVFV", "Ebola", "Marburg")
