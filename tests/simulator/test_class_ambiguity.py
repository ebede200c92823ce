"""``class_ambiguity``: eccentric and mature interiors drawn towards an ambiguous middle. It
changes values, never random draws, so the virions, their labels and everything outside the
virions stay as they were; the eccentric RNP blobs get paler."""

import numpy as np
import pytest

from temnet_app.simulator.simulate import SimulationParams, simulate

ECCENTRIC, MATURE, IMMATURE = 1, 2, 3


def _inside(sim, class_id):
    mask = np.zeros(sim.image.shape, bool)
    for b in sim.boxes:
        if b.class_id == class_id:
            mask[int(b.y1):int(b.y2) + 1, int(b.x1):int(b.x2) + 1] = True
    return mask


def test_ambiguity_keeps_layout_and_labels_and_pales_the_eccentric_blobs():
    base = SimulationParams(width=900, height=700, seed=31_337, noise=False, texture=False,
                            density=(40.0, 40.0))
    plain = simulate(base)
    subtle = simulate(SimulationParams(**{**base.__dict__, "class_ambiguity": 1.0}))
    assert subtle.boxes == plain.boxes and plain.distractors == subtle.distractors
    ids = {b.class_id for b in plain.boxes}
    assert {ECCENTRIC, MATURE} <= ids
    virions = _inside(plain, ECCENTRIC) | _inside(plain, MATURE) | _inside(plain, IMMATURE)
    a, b = plain.image.astype(float), subtle.image.astype(float)
    # outside every virion box nothing moved (only particle interiors change)
    assert np.abs(a - b)[~virions].max() <= 1.0
    ecc = _inside(plain, ECCENTRIC) & ~(_inside(plain, MATURE) | _inside(plain, IMMATURE))
    # inside eccentric virions: the darkest pixels (the blob) are lighter
    assert np.percentile(b[ecc], 2) > np.percentile(a[ecc], 2) + 3.0
    assert np.abs(a - b)[_inside(plain, MATURE)].max() > 5.0      # mature cores moved too


@pytest.mark.parametrize("value", [-0.1, 1.5, "high"])
def test_ambiguity_must_be_in_zero_one(value):
    with pytest.raises(Exception, match="class_ambiguity must be a number in"):
        SimulationParams(class_ambiguity=value)
