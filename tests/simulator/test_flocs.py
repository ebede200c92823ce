"""Granular "cauliflower" flocs (``flocs`` > 0): unlabelled, placed between the virions, and
they darken the background the way the real reference's flocs do (measured there: ~23% of the
non-virion area darker than 85% of its median; ~5% with the simulator's defaults)."""

import numpy as np
import pytest
from scipy import ndimage

from temnet_app.simulator.simulate import SimulationParams, simulate

PIXEL_NM = 2.68     # the real reference's scale: 838 x 551 px hold ~3.3 um^2


def _dark_share(sim) -> float:
    mask = np.ones(sim.image.shape, bool)
    for b in sim.boxes:
        pad = 0.15 * (b.x2 - b.x1)
        mask[max(0, int(b.y1 - pad)):int(b.y2 + pad) + 1,
             max(0, int(b.x1 - pad)):int(b.x2 + pad) + 1] = False
    smooth = ndimage.gaussian_filter(sim.image.astype(float), 6.0 / PIXEL_NM)
    return float((smooth[mask] < 0.85 * np.median(smooth[mask])).mean())


@pytest.mark.parametrize("seed", [424_200, 424_201])
def test_flocs_darken_the_background_and_leave_the_virions_and_labels_alone(seed):
    base = SimulationParams(width=838, height=551, pixel_size_nm=PIXEL_NM, seed=seed)
    plain = simulate(base)
    flocs = simulate(SimulationParams(**{**base.__dict__, "flocs": 2.0}))
    assert "flocs" not in plain.distractors and flocs.distractors["flocs"] >= 20
    assert flocs.boxes == plain.boxes                 # same virions, same labels
    assert _dark_share(plain) < 0.1 < 0.15 < _dark_share(flocs)


def test_flocs_must_be_a_non_negative_number():
    with pytest.raises(Exception, match="flocs must be a number >= 0"):
        SimulationParams(flocs=-1.0)
