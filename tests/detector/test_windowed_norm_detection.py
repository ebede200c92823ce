"""Whole-micrograph detection with windowed GroupNorm statistics: what a dark region (a grid
bar, an info band) does to detections far from it. Measured on the shipped model: with the
statistics of the whole image the dark third of the micrograph changes detections everywhere;
with windowed statistics, detections more than a window away from it keep their boxes
and their scores within 0.05."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from temnet_app.core.box_math import iou_matrix  # noqa: E402
from temnet_app.core.locations import model_folder  # noqa: E402
from temnet_app.detector import Detector  # noqa: E402
from temnet_app.simulator import preset_params, simulate  # noqa: E402

BAR_X = 2000      # micrograph columns from here on turn black
FAR_X = 1200      # detections centred left of this are > 1 window side away from the bar


def _far_boxes(detections):
    kept = [d for d in detections if d.score >= 0.5 and (d.x1 + d.x2) / 2 < FAR_X]
    return np.array([[d.x1, d.y1, d.x2, d.y2] for d in kept]), np.array([d.score for d in kept])


def _largest_change(before, after) -> float:
    """The largest score change of a far detection (a lost or new one counts fully)."""
    (b_boxes, b_scores), (a_boxes, a_scores) = before, after
    if not len(b_boxes) or not len(a_boxes):
        return 1.0 if len(b_boxes) or len(a_boxes) else 0.0
    overlap = iou_matrix(b_boxes, a_boxes)
    worst = 0.0
    for i, row in enumerate(overlap):
        j = int(np.argmax(row))
        worst = max(worst, abs(b_scores[i] - a_scores[j]) if row[j] > 0.8 else 1.0)
    for j, col in enumerate(overlap.T):
        if col.max() <= 0.8:
            worst = 1.0
    return worst


@pytest.fixture(scope="module")
def micrographs():
    sim = simulate(preset_params("dataset", width=3000, height=1400, seed=777_010,
                                 density=(25.0, 30.0)))
    barred = sim.image.copy()
    barred[:, BAR_X:] = 0
    return sim.image, barred


@pytest.mark.parametrize("local_norm", [True, False])
def test_a_dark_bar_leaves_far_detections_alone_only_with_windowed_statistics(micrographs,
                                                                              local_norm):
    folder = model_folder("temnet-gn-synthetic")      # the figures below were measured on it
    shipped = Detector.load(folder)
    detector = Detector.from_config(shipped.config.replace(local_norm=local_norm),
                                    weights_path=folder / "weights.weights.h5")
    clean, barred = micrographs
    before = _far_boxes(detector.detect(clean, 30000.0, mode="whole"))
    after = _far_boxes(detector.detect(barred, 30000.0, mode="whole"))
    assert len(before[0]) >= 10
    change = _largest_change(before, after)
    if local_norm:     # measured 0.03 (one box's score; none lost or new)
        assert change < 0.05, change
    else:              # measured 1.0: far boxes lost or new
        assert change > 0.2, change
