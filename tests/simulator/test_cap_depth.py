"""Out-of-section discs cut deeper (``cap_depth``) and denser inside (``cap_density``): fuller,
darker grey discs with a soft edge, as in the crowded middle of the real reference, where the
default discs (near face at 0.5-0.92 of the radius, content 0.9-2.2 lumens) are almost
invisible. Unlabelled either way; the defaults draw exactly what they drew before."""

import numpy as np
import pytest

from temnet_app.simulator.layout import plan_layout
from temnet_app.simulator.simulate import SimulationParams, simulate

NAMES, IDS = ["eccentric", "mature", "immature"], [1, 2, 3]


def _layout(**caps):
    return plan_layout(np.random.default_rng(11), width=1600, height=1100,
                       magnification=30000.0, nm_per_px=0.561, n_virions=12,
                       class_names=NAMES, class_probs=[1 / 3] * 3, class_ids=IDS,
                       distractors=3.0, contrast=1.0, edge_virions=False, **caps)


def test_cap_depth_places_the_section_face_where_asked():
    default, deep = _layout(), _layout(cap_depth=(0.3, 0.4))
    assert len(deep.caps) >= 10 and all(s.class_id == 0 for s in deep.caps)

    def depth(spec):
        return spec.envelope.z_lo / spec.envelope.radius3_nm

    assert all(0.5 <= depth(s) <= 0.92 for s in default.caps)
    assert all(0.3 <= depth(s) <= 0.4 for s in deep.caps)
    # the same particles in the same places: only the cut differs
    assert [(s.outline.cx, s.outline.cy) for s in deep.caps] == \
        [(s.outline.cx, s.outline.cy) for s in default.caps]
    assert [b.class_id for b in deep.labels] == [b.class_id for b in default.labels]


def test_deeper_denser_discs_are_darker_on_a_flat_background():
    # no virions, no texture, no noise: what is not background is the distractors
    base = dict(width=800, height=600, seed=21, count=0, distractors=4.0, texture=False,
                noise=False)
    faint = simulate(SimulationParams(**base, cap_depth=(0.85, 0.9), cap_density=(1.0, 1.0)))
    full = simulate(SimulationParams(**base, cap_depth=(0.3, 0.35), cap_density=(4.0, 4.0)))
    assert full.boxes == [] and faint.boxes == []
    # the same layout, so the images differ only inside the discs: never lighter, and by a
    # large part of all the grey the distractors put below the background
    gain = faint.image.astype(float) - full.image.astype(float)
    assert gain.min() >= -1.0
    background = float(np.percentile(faint.image, 99))
    faint_mass = np.clip(background - faint.image.astype(float), 0, None).sum()
    assert gain.sum() > 0.3 * faint_mass > 0
    assert full.image.min() < faint.image.min()


def test_the_defaults_draw_what_they_drew_before():
    base = dict(width=640, height=480, seed=5, distractors=3.0)
    assert np.array_equal(
        simulate(SimulationParams(**base)).image,
        simulate(SimulationParams(**base, cap_depth=(0.5, 0.92), cap_density=(0.9, 2.2))).image)


@pytest.mark.parametrize("name,bad", [("cap_depth", (0.6, 0.4)), ("cap_depth", (0.1, 0.4)),
                                      ("cap_depth", (0.5, 1.0)), ("cap_density", (0.0, 1.0)),
                                      ("cap_density", "dark"), ("cap_density", (2.0, 9.0))])
def test_an_unusable_cap_depth_or_density_is_a_clear_error(name, bad):
    with pytest.raises(Exception, match=f"{name} must be a range"):
        SimulationParams(**{name: bad})
