"""Out-of-section discs (``cap_size``): their size as a fraction of a virion's, unlabelled.

The real reference has grey, virion-sized discs without a sharp membrane that a detector trained
on the defaults (discs 0.55-0.95 of a virion) calls virions; ``cap_size`` draws them larger."""

import numpy as np
import pytest

from temnet_app.simulator.layout import plan_layout
from temnet_app.simulator.simulate import SimulationParams, simulate

NAMES, IDS = ["eccentric", "mature", "immature"], [1, 2, 3]


def _layout(cap_size, seed=7):
    return plan_layout(np.random.default_rng(seed), width=1600, height=1100,
                       magnification=30000.0, nm_per_px=0.561, n_virions=12,
                       class_names=NAMES, class_probs=[1 / 3] * 3, class_ids=IDS,
                       distractors=3.0, contrast=1.0, edge_virions=False,
                       cap_size=cap_size)


def _median_radius(specs):
    return float(np.median([s.outline.radius_nm for s in specs]))


def test_cap_size_sets_the_discs_size_relative_to_the_virions():
    small, large = _layout((0.55, 0.95)), _layout((0.9, 1.2))
    assert len(small.caps) >= 10 and len(large.caps) >= 10
    assert all(s.class_id == 0 for s in large.caps)              # never labelled
    virion = _median_radius(small.virions)
    assert 0.6 < _median_radius(small.caps) / virion < 0.9
    assert 0.85 < _median_radius(large.caps) / virion < 1.2
    assert _median_radius(large.caps) > 1.25 * _median_radius(small.caps)
    # what is labelled is the same
    assert [b.class_id for b in large.labels] == [b.class_id for b in small.labels]


def test_the_default_is_the_old_range_so_the_shipped_data_are_reproducible():
    base = dict(width=640, height=480, seed=5)
    assert np.array_equal(simulate(SimulationParams(**base)).image,
                          simulate(SimulationParams(**base, cap_size=(0.55, 0.95))).image)


@pytest.mark.parametrize("bad", [(0.9, 0.5), (0.1, 0.5), (1.0, 2.0), (0.5,), "big"])
def test_an_unusable_cap_size_is_a_clear_error(bad):
    with pytest.raises(Exception, match="cap_size must be a range"):
        SimulationParams(cap_size=bad)
