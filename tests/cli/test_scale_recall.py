"""A TIFF labelled "Direct Mag: 30000x" whose pixels are 0.28 nm (a camera finer than the
reference one) is detected at its calibrated pixel size, through the real CLI: simulated,
labelled and scored with `temnet simulate` and `temnet evaluate`, against the same files forced
to the magnification's scale (what the program did before the pixel size decided)."""

import tifffile

from temnet_app.cli import main


def _overall(text: str) -> dict:
    """The overall row of `temnet evaluate`'s table: mAP, precision, recall, F1 (percent)."""
    (row,) = [line.split() for line in text.splitlines() if line.startswith("overall")]
    return dict(zip(("map", "precision", "recall", "f1"), map(float, row[1:5])))


def test_a_calibrated_pixel_size_beats_the_nominal_magnification(tmp_path, capsys):
    images = tmp_path / "fine camera"
    assert main(["simulate", "--out", str(images), "--n", "2", "--seed", "7100",
                 "--magnification", "30000", "--pixel-size", "0.28", "--density", "30"]) == 0
    capsys.readouterr()
    first = sorted(images.glob("*.tif"))[0]
    with tifffile.TiffFile(first) as tif:
        text = tif.pages[0].description
    assert "Direct Mag: 30000x" in text and "Cal: 0.28 nm/pix" in text

    labels = str(images / "annotations.csv")
    assert main(["evaluate", "--images", str(images), "--labels", labels]) == 0
    by_pixel_size = capsys.readouterr()
    assert f"{first.name}: 0.280 nm/px (the file's calibration); 30,000x (from the file)" \
        in by_pixel_size.err
    assert main(["evaluate", "--images", str(images), "--labels", labels,
                 "--magnification", "30000"]) == 0
    by_magnification = capsys.readouterr()
    assert "0.561 nm/px (30,000x set for this micrograph" in by_magnification.err

    now, before = _overall(by_pixel_size.out), _overall(by_magnification.out)
    print(f"0.28 nm/px micrographs labelled 30,000x: pixel size {now}, magnification {before}")
    assert now["map"] >= 85.0 and now["recall"] >= 85.0 and now["precision"] >= 85.0
    assert before["map"] <= 60.0 and before["precision"] <= 70.0
    assert now["recall"] > before["recall"]
