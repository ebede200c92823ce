"""The micrograph simulator: determinism, label geometry, sizes, class mixes, parameters."""

import numpy as np
import pandas as pd
import pytest

from temnet_app.core.boxes import DEFAULT_SCHEME
from temnet_app.core.errors import TemnetError
from temnet_app.core.micrographs.info_band import detect_info_band
from temnet_app.simulator import measured_sizes
from temnet_app.simulator.simulate import (DATASET_MIX, PRESETS, SimulationParams, derived_seed,
                                           preset_params, simulate)

SMALL = dict(width=800, height=600)
# fast settings for statistics over many virions: no grain, no noise, no distractors
BARE = dict(texture=False, noise=False, distractors=0.0, debris=0.0, illumination=0.0)


def test_same_seed_gives_identical_bytes_and_boxes():
    a = simulate(preset_params("WT", seed=11, info_band=True, **SMALL))
    b = simulate(preset_params("WT", seed=11, info_band=True, **SMALL))
    assert a.image.dtype == np.uint8 and a.image.shape == (600, 800)
    assert a.image.tobytes() == b.image.tobytes()
    assert a.boxes == b.boxes and a.distractors == b.distractors


def test_different_seed_gives_a_different_micrograph():
    a = simulate(preset_params("WT", seed=11, **SMALL))
    b = simulate(preset_params("WT", seed=12, **SMALL))
    assert np.mean(a.image != b.image) > 0.5
    assert a.boxes != b.boxes


def test_derived_seeds_are_stable_and_distinct():
    seeds = [derived_seed(7, i) for i in range(50)]
    assert len(set(seeds)) == 50 and seeds == [derived_seed(7, i) for i in range(50)]
    assert derived_seed(7, 0) != derived_seed(8, 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_boxes_lie_inside_the_image_and_above_the_info_band(seed):
    sim = simulate(preset_params("dataset", seed=seed, info_band=True, width=1200, height=900,
                                 density=40.0))
    assert sim.band_top == 900 - round(900 * 0.097)
    assert len(sim.boxes) >= 5
    for box in sim.boxes:
        assert 0 <= box.x1 < box.x2 <= 1200 and 0 <= box.y1 < box.y2 <= sim.band_top
    band = sim.image[sim.band_top:]
    assert np.mean(band == 255) > 0.85 and np.mean(band < 64) > 0.005  # white, black text
    assert abs(detect_info_band(sim.image) - (900 - sim.band_top)) <= 2
    assert np.median(sim.image[:sim.band_top]) < 215


def test_without_edge_virions_every_box_is_whole():
    sim = simulate(SimulationParams(seed=5, width=1200, height=900, density=40.0,
                                    edge_virions=False, **BARE))
    assert sim.boxes
    for box in sim.boxes:
        assert box.x1 > 0 and box.y1 > 0 and box.x2 < 1200 and box.y2 < 900


def test_embedded_sizes_match_the_measurement_table(shared_dir):
    table = pd.read_csv(shared_dir / "data" / "virion_sizes.csv")
    for name in DEFAULT_SCHEME.names:
        rows = table[table.morphology == name]
        expected = np.stack([rows.box_width_px, rows.box_length_px], axis=1).astype(float)
        np.testing.assert_array_equal(measured_sizes(name), expected)


def _many_boxes(magnification, seeds, mix=None):
    boxes = []
    for seed in seeds:
        params = SimulationParams(seed=seed, width=2400, height=1800, magnification=magnification,
                                  count=45, edge_virions=False,
                                  class_mix=mix or {"eccentric": 1, "mature": 1, "immature": 1},
                                  **BARE)
        boxes += simulate(params).boxes
    return boxes


def test_box_sizes_follow_the_measured_sizes_and_scale_with_magnification(shared_dir):
    table = pd.read_csv(shared_dir / "data" / "virion_sizes.csv")
    at_30k = _many_boxes(30000.0, range(4))
    at_20k = _many_boxes(20000.0, range(4))
    assert len(at_30k) > 150 and len(at_20k) > 150
    for class_id in DEFAULT_SCHEME.ids:
        rows = table[table.morphology == DEFAULT_SCHEME.name(class_id)]
        real = np.sqrt(rows.box_width_px * rows.box_length_px)
        sim = np.array([np.sqrt(b.area) for b in at_30k if b.class_id == class_id])
        assert len(sim) > 30
        assert abs(np.median(sim) / np.median(real) - 1) < 0.06, class_id
        lo, hi = rows[["box_width_px", "box_length_px"]].min().min(), \
            rows[["box_width_px", "box_length_px"]].max().max()
        widths = np.array([b.width for b in at_30k if b.class_id == class_id])
        assert widths.min() >= lo - 1e-6 and widths.max() <= hi + 1e-6
        small = np.array([np.sqrt(b.area) for b in at_20k if b.class_id == class_id])
        assert abs(np.median(small) / np.median(sim) - 2 / 3) < 0.05, class_id
        assert small.max() <= hi * 2 / 3 + 1e-6


def test_preset_class_mixes_over_many_virions():
    immature = _many_boxes(30000.0, range(2), mix=PRESETS["PR-D25A"].class_mix)
    assert immature and {b.class_id for b in immature} == {3}
    mixed = _many_boxes(30000.0, range(10, 16), mix=DATASET_MIX)
    assert len(mixed) > 230
    ids = np.array([b.class_id for b in mixed])
    for name, fraction in DATASET_MIX.items():
        observed = np.mean(ids == DEFAULT_SCHEME.id(name))
        assert abs(observed - fraction) < 0.07, (name, observed, fraction)


def test_count_and_density_control_the_number_of_virions():
    assert len(simulate(SimulationParams(seed=1, width=2000, height=1500, count=20,
                                         **BARE)).boxes) == 20
    assert len(simulate(SimulationParams(seed=1, width=800, height=600, count=0,
                                         **BARE)).boxes) == 0
    sparse = simulate(SimulationParams(seed=2, width=2000, height=1500, density=5.0, **BARE))
    dense = simulate(SimulationParams(seed=2, width=2000, height=1500, density=30.0, **BARE))
    area_um2 = 2000 * 1500 * 0.561 ** 2 / 1e6
    assert len(sparse.boxes) == round(5.0 * area_um2)
    assert len(dense.boxes) > 0.85 * round(30.0 * area_um2)


def test_presets_cover_the_papers_conditions():
    assert {"WT", "PR-D25A", "IN-D116N", "IN-N184L", "delIN", "ALLINI-BI-D", "IN-E96A",
            "dataset"} <= set(PRESETS)
    for preset in PRESETS.values():
        assert abs(sum(preset.class_mix.values()) - 1) < 1e-9
        assert set(preset.class_mix) <= set(DEFAULT_SCHEME.names)
    assert PRESETS["PR-D25A"].class_mix["immature"] == 1.0
    assert max(PRESETS["WT"].class_mix, key=PRESETS["WT"].class_mix.get) == "mature"
    assert max(PRESETS["delIN"].class_mix, key=PRESETS["delIN"].class_mix.get) == "eccentric"


@pytest.mark.parametrize("kwargs, words", [
    (dict(width=10), "width"),
    (dict(width=True), "width"),
    (dict(magnification=10.0), "magnification"),
    (dict(density=-1.0), "density"),
    (dict(density=(20.0, 10.0)), "density"),
    (dict(count=2.5), "count"),
    (dict(class_mix={"banana": 1.0}), "class_mix"),
    (dict(class_mix={"mature": 0.0}), "class_mix"),
    (dict(seed=-3), "seed"),
    (dict(dose=float("nan")), "dose"),
    (dict(binning=3), "binning"),
])
def test_bad_parameters_raise_one_line_errors(kwargs, words):
    with pytest.raises(TemnetError) as info:
        SimulationParams(**kwargs)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_unknown_preset_and_setting_are_reported():
    with pytest.raises(TemnetError, match="unknown simulator preset 'XX'.*PR-D25A"):
        preset_params("XX")
    with pytest.raises(TemnetError, match="colour"):
        preset_params("WT", colour=3)


def test_default_size_micrograph_looks_like_the_reference(shared_dir):
    """Smoke test at the default size: shape, virion count and an 8-bit histogram like the
    real 30,000x micrograph (light background, mid-grey particles, dark densities)."""
    from PIL import Image

    sim = simulate(preset_params("WT", seed=2024))
    assert sim.image.shape == (2620, 4000)
    assert 40 <= len(sim.boxes) <= 200
    ref = np.asarray(Image.open(shared_dir / "reference" / "real_micrograph_1797001_zoom.png"))
    p_sim = np.percentile(sim.image, [5, 50, 95])
    p_ref = np.percentile(ref, [5, 50, 95])
    assert np.all(np.abs(p_sim - p_ref) < 25), (p_sim, p_ref)


def test_distractors_are_drawn_but_never_labelled():
    params = dict(seed=4, width=1600, height=1200, count=0, distractors=2.0, debris=0.0)
    with_distractors = simulate(SimulationParams(**params))
    without = simulate(SimulationParams(**{**params, "distractors": 0.0}))
    assert with_distractors.boxes == [] and without.boxes == []
    assert with_distractors.distractors["out_of_section"] > 0
    assert sum(without.distractors.values()) == 0
    # the distractors darken the field: more dark pixels than with the background alone
    dark = np.median(without.image) - 25
    assert np.mean(with_distractors.image < dark) > 3 * np.mean(without.image < dark)
