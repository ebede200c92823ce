"""benchmarks/downsampled_exports.py end to end: each simulated micrograph written as it is and
as a shrunk export whose pixels, boxes, magnification and pixel size all scale together."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from temnet_app.core.annotations import read_via_csv
from temnet_app.core.micrographs import read_micrograph

ROOT = Path(__file__).resolve().parents[1]


def _boxes(folder: Path) -> dict[str, np.ndarray]:
    found = read_via_csv(folder / "annotations.csv")
    return {name: np.array([b.xyxy() for b in boxes]) for name, boxes in found.items()}


def test_export_is_the_micrograph_shrunk_with_its_labels_and_scale(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "downsampled_exports.py"), str(tmp_path),
         "--parts", "std", "--n", "2", "--factor", "2"],
        capture_output=True, text=True, timeout=300, cwd=ROOT / "benchmarks")
    assert done.returncode == 0, done.stderr
    assert "std_native|_export: 2 micrographs" in done.stdout
    native, export = tmp_path / "std_native", tmp_path / "std_export"
    native_boxes, export_boxes = _boxes(native), _boxes(export)
    assert sorted(native_boxes) == sorted(export_boxes) and len(native_boxes) == 2
    for name in native_boxes:
        big, small = read_micrograph(native / name), read_micrograph(export / name)
        assert big.pixels.shape == (1310, 2000)
        assert small.pixels.shape == (655, 1000)
        assert small.info.magnification == pytest.approx(15000, rel=0.001)
        assert small.info.pixel_size_nm == pytest.approx(big.info.pixel_size_nm * 2, rel=0.001)
        # Each export pixel is the mean of the 2 x 2 block under it (the box filter).
        block = big.pixels.reshape(655, 2, 1000, 2).mean(axis=(1, 3))
        assert np.abs(small.pixels - block).max() <= 1.0     # Pillow rounds in fixed point
        assert len(native_boxes[name]) > 5
        np.testing.assert_allclose(export_boxes[name], native_boxes[name] / 2, atol=0.01)
