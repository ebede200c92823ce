"""Known-answer checks on isolated, noise-free simulated virions: each class has its
characteristic density pattern, the membrane is a dark ring and the box is tight on it."""

import numpy as np
import pytest

from temnet_app.simulator import SimulationParams, simulate

BARE = dict(texture=False, noise=False, distractors=0.0, debris=0.0, illumination=0.0)
SEEDS = range(16)
SIZE = 500


def _single(name, seed, **kwargs):
    """One virion on a flat background: (box, darkness = background - image, normalised radius
    from the box centre in units of the box half-sizes)."""
    sim = simulate(SimulationParams(width=SIZE, height=SIZE, count=1, class_mix={name: 1.0},
                                    edge_virions=False, seed=seed, **{**BARE, **kwargs}))
    assert len(sim.boxes) == 1 and sim.counts[name] == 1
    box = sim.boxes[0]
    image = sim.image.astype(float)
    background = float(np.median(image[:4]))
    y, x = np.mgrid[:SIZE, :SIZE] + 0.5
    cx, cy = box.center
    radius = np.hypot((x - cx) / (box.width / 2), (y - cy) / (box.height / 2))
    return box, background - image, radius, (x, y)


def _dense_centroid_radius(dark, radius):
    """Darkness-weighted mean radius of the densest interior region (>= 60% of its maximum)."""
    inner = radius < 0.8
    dense = inner & (dark >= 0.6 * dark[inner].max())
    return float(np.average(radius[dense], weights=dark[dense]))


def test_immature_has_a_dark_annulus_under_the_membrane_and_a_lighter_lumen():
    contrasts = []
    for seed in SEEDS:
        _, dark, radius, _ = _single("immature", seed)
        annulus = dark[(radius > 0.55) & (radius < 0.85)].mean()
        centre = dark[radius < 0.3].mean()
        contrasts.append(annulus - centre)
    contrasts = np.array(contrasts)
    assert np.mean(contrasts > 3) >= 0.9, contrasts
    assert np.median(contrasts) > 25, contrasts


def test_mature_density_sits_centrally_and_eccentric_density_off_centre():
    mature = np.array([_dense_centroid_radius(*_single("mature", s)[1:3]) for s in SEEDS])
    eccentric = np.array([_dense_centroid_radius(*_single("eccentric", s)[1:3]) for s in SEEDS])
    assert np.median(mature) < 0.45, mature
    assert np.median(eccentric) > 0.55, eccentric
    assert np.mean(eccentric > np.median(mature)) >= 0.75
    # mature: the core is darker than the rest of the lumen; the centre is not empty
    for seed in SEEDS[:6]:
        _, dark, radius, _ = _single("mature", seed)
        assert dark[radius < 0.8].max() > np.median(dark[radius < 0.8]) + 20


@pytest.mark.parametrize("name", ["immature", "mature", "eccentric"])
def test_membrane_is_a_dark_ring_and_the_box_is_tight(name):
    for seed in SEEDS[:6]:
        box, dark, radius, (x, y) = _single(name, seed)
        ring = dark[(radius > 0.92) & (radius < 0.99)].mean()
        assert ring > 12, (name, seed, ring)
        # nothing of the particle far outside its box (fuzz is faint and close)
        far = ~((x > box.x1 - 30) & (x < box.x2 + 30) & (y > box.y1 - 30) & (y < box.y2 + 30))
        assert np.abs(dark[far]).max() <= 1
        peak = dark[(radius > 0.85) & (radius < 1.05)].max()
        outside = ~((x > box.x1 - 4) & (x < box.x2 + 4) & (y > box.y1 - 4) & (y < box.y2 + 4))
        assert dark[outside].max() < 0.25 * peak
        # each side of the box touches the dark outline (within 3 px)
        strong = dark > 0.2 * peak
        cols, rows = np.nonzero(strong.T)
        assert abs(cols.min() + 0.5 - box.x1) < 3 and abs(cols.max() + 0.5 - box.x2) < 3
        assert abs(rows.min() + 0.5 - box.y1) < 3 and abs(rows.max() + 0.5 - box.y2) < 3


def test_physical_sizes_scale_with_magnification():
    """The same virion at 20,000x is 2/3 the size in pixels of the one at 30,000x."""
    box_30, _, _, _ = _single("mature", 3)
    box_20, _, _, _ = _single("mature", 3, magnification=20000.0)
    assert box_20.width / box_30.width == pytest.approx(2 / 3, rel=0.02)
    assert box_20.height / box_30.height == pytest.approx(2 / 3, rel=0.02)
