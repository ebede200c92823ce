"""benchmarks/compare_models.py end to end: two model folders scored on the same labelled
micrographs, one block per model with the card's schedule and both confidence levels."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_compare_models_prints_one_block_per_model(tmp_path):
    pytest.importorskip("tensorflow")
    from temnet_app.detector import Detector, DetectorConfig
    from temnet_app.simulator import simulate_set

    simulate_set(tmp_path / "data", 2, "WT", 30000.0, seed=3, width=600, height=600,
                 count=(2, 3))
    tiny = DetectorConfig(net_input=64, window=512, window_overlap=128, input_channels=1,
                          fpn_channels=8, rpn_channels=8, head_units=16,
                          anchor_scales=(24.0, 48.0), anchor_ratios=(1.0,), anchor_stride=1,
                          tiling_mode="whole")
    for name in ("first", "second"):
        Detector.from_config(tiny, name=name).save(tmp_path / name)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "compare_models.py"), "--images",
         str(tmp_path / "data"), "--labels", str(tmp_path / "data" / "annotations.csv"),
         str(tmp_path / "first"), str(tmp_path / "second")],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert out.count("\n== ") == 2 and "first" in out and "second" in out
    assert out.count("conf >= 0.5: mAP@0.5") == 2 and out.count("conf >= 0.9: mAP@0.5") == 2
    assert "eccentric AP" in out and "immature AP" in out
