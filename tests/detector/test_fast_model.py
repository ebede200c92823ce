"""The third shipped model, temnet-gn-fast (temnet-gn-synthetic fine-tuned to run its network at
a quarter of the 30,000x pixels, for batches): found by name, runs a 4000x2620 micrograph on a
quarter of the default model's network pixels, and through ``temnet evaluate`` scores on
simulated micrographs close to temnet-gn-synthetic."""

import re

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from temnet_app.cli import main  # noqa: E402
from temnet_app.detector import tiling  # noqa: E402
from temnet_app.jobs.models import load_detector, resolve_model_dir  # noqa: E402


def test_found_by_name_and_runs_on_a_quarter_of_the_pixels():
    folder = resolve_model_dir("temnet-gn-fast")
    assert (folder / "weights.weights.h5").is_file()
    fast, default = load_detector("temnet-gn-fast"), load_detector(None)
    assert fast.model_id == "temnet-gn-fast@1" and fast.config.net_input == 256
    assert fast.config.tiling_mode == "whole"
    sizes = []
    for detector in (fast, default):
        cfg = detector.config
        factor = tiling.whole_image_scale(30000.0, cfg.window, cfg.net_input,
                                          cfg.train_magnification)
        resized, _, _ = tiling.rescale_image(np.zeros((2620, 4000), np.uint8), factor)
        sizes.append(resized.size)
    assert sizes == [640 * 992, 1312 * 2016]


def _overall_map(capsys, images, model) -> float:
    assert main(["evaluate", "--images", str(images), "--labels",
                 str(images / "annotations.csv"), "--model", model]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("overall")][0]
    return float(re.findall(r"[\d.]+", line)[0])


@pytest.mark.slow
def test_on_simulated_micrographs_it_scores_close_to_the_model_it_came_from(tmp_path, capsys):
    from temnet_app.simulator import simulate_set

    simulate_set(tmp_path, 2, "dataset", 30000.0, seed=9001)     # the test set's first two
    fast = _overall_map(capsys, tmp_path, "temnet-gn-fast")
    synthetic = _overall_map(capsys, tmp_path, "temnet-gn-synthetic")
    # measured on these two (113 virions): fast 97.2, synthetic 94.5 (all 13: 98.3 and 95.5)
    assert fast >= 93.0 and fast >= synthetic - 2.0
