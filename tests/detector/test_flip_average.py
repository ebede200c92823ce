"""Averaging over mirrored copies: known answers for the arithmetic, and on the shipped model
the property that makes it worth four passes: the answer no longer depends on which way up
the micrograph was scanned."""

import json

import numpy as np
import pytest

from temnet_app.detector.flip_average import FLIPS, average_runs, flip_image, unflip_boxes

BOX = [100.0, 50.0, 200.0, 150.0]


def _run(boxes, scores, ids):
    return np.array(boxes, float).reshape(-1, 4), np.array(scores, float), np.array(ids, int)


def test_a_particle_found_alike_in_every_run_keeps_its_box_score_and_class():
    runs = [_run([BOX], [0.9], [2])] * 4
    boxes, scores, ids = average_runs(runs)
    assert boxes.tolist() == [BOX] and scores == pytest.approx([0.9]) and ids.tolist() == [2]


def test_a_box_found_in_one_run_of_four_keeps_a_quarter_of_its_score():
    empty = _run([], [], [])
    boxes, scores, ids = average_runs([_run([BOX], [0.8], [1]), empty, empty, empty])
    assert scores == pytest.approx([0.2]) and boxes.tolist() == [BOX]


def test_the_box_is_the_score_weighted_mean_and_the_class_the_largest_summed_score():
    shifted = [110.0, 50.0, 210.0, 150.0]       # IoU 0.82 with BOX
    runs = [_run([BOX], [0.9], [1]), _run([shifted], [0.3], [3]), _run([shifted], [0.4], [3]),
            _run([], [], [])]
    boxes, scores, ids = average_runs(runs)
    assert scores == pytest.approx([(0.9 + 0.3 + 0.4) / 4])
    assert boxes[0] == pytest.approx([100 + 10 * 0.7 / 1.6, 50, 200 + 10 * 0.7 / 1.6, 150])
    assert ids.tolist() == [1]          # 0.9 for class 1 against 0.3 + 0.4 for class 3


def test_only_each_runs_best_box_counts_and_separate_particles_stay_separate():
    near = [105.0, 55.0, 205.0, 155.0]          # IoU 0.82 with BOX, the same run
    far = [400.0, 50.0, 500.0, 150.0]
    runs = [_run([BOX, near, far], [0.9, 0.6, 0.5], [1, 1, 2]), _run([BOX], [0.7], [1])]
    boxes, scores, ids = average_runs(runs)
    assert scores == pytest.approx([0.8, 0.25])     # (0.9 + 0.7) / 2, then 0.5 / 2
    assert boxes[0].tolist() == BOX and boxes[1].tolist() == far and ids.tolist() == [1, 2]


def test_no_boxes_anywhere_gives_empty_arrays_and_no_runs_is_an_error():
    boxes, scores, ids = average_runs([_run([], [], [])] * 4)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and ids.shape == (0,)
    with pytest.raises(ValueError):
        average_runs([])


@pytest.mark.parametrize("left_right, top_bottom", FLIPS)
def test_a_box_mirrored_with_its_image_comes_back_where_it_was(left_right, top_bottom):
    image = np.zeros((300, 500), np.uint8)
    image[50:150, 100:200] = 255                                # a bright square at BOX
    mirrored = flip_image(image, left_right, top_bottom)
    assert mirrored.flags["C_CONTIGUOUS"]
    rows, cols = np.nonzero(mirrored)
    seen = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
    assert unflip_boxes(np.array([seen], float), 500, 300, left_right,
                        top_bottom).tolist() == [BOX]


@pytest.fixture(scope="module")
def shipped_and_micrograph():
    pytest.importorskip("tensorflow")
    from temnet_app.core.locations import model_folder
    from temnet_app.detector import Detector
    from temnet_app.simulator import preset_params, simulate

    sim = simulate(preset_params("dataset", width=1800, height=1200, seed=515_001))
    folder = model_folder("temnet-gn-synthetic")     # its card says one pass
    return Detector.load(folder), sim.image, folder


def _arrays(detections):
    order = sorted(detections, key=lambda d: (round(d.x1), round(d.y1)))
    return (np.array([[d.x1, d.y1, d.x2, d.y2] for d in order]),
            np.array([d.score for d in order]), [d.class_id for d in order])


def test_with_flips_a_mirrored_micrograph_gives_the_mirrored_answer(shipped_and_micrograph):
    detector, image, _ = shipped_and_micrograph
    height, width = image.shape
    plain = _arrays(detector.detect(image, 30000.0, flips=True))
    mirrored = detector.detect(np.ascontiguousarray(image[:, ::-1]), 30000.0, flips=True)
    back = _arrays([type(d)(width - d.x2, d.y1, width - d.x1, d.y2, d.class_id, d.score)
                    for d in mirrored])
    assert len(plain[0]) >= 5 and len(plain[0]) == len(back[0])
    assert np.abs(plain[0] - back[0]).max() < 1e-3
    assert np.abs(plain[1] - back[1]).max() < 1e-5 and plain[2] == back[2]
    # without averaging, one pass on the mirrored image is not the mirror of one pass
    one = _arrays(detector.detect(image, 30000.0, flips=False))
    one_mirrored = detector.detect(np.ascontiguousarray(image[:, ::-1]), 30000.0, flips=False)
    one_back = _arrays([type(d)(width - d.x2, d.y1, width - d.x1, d.y2, d.class_id, d.score)
                        for d in one_mirrored])
    assert (len(one[1]) != len(one_back[1])
            or np.abs(one[1] - one_back[1]).max() > 1e-3)


def test_flips_follow_the_models_setting_and_report_progress_over_four_passes(
        shipped_and_micrograph):
    detector, image, folder = shipped_and_micrograph
    flipping = type(detector).from_config(detector.config.replace(flip_average=True),
                                          weights_path=folder / "weights.weights.h5")
    seen = []
    by_setting = flipping.detect(image, 30000.0, progress=lambda f, m: seen.append(f))
    explicit = detector.detect(image, 30000.0, flips=True)
    assert [(d.x1, d.score, d.class_id) for d in by_setting] == \
        [(d.x1, d.score, d.class_id) for d in explicit]
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert [f for f in seen if f == pytest.approx(0.25) or f == pytest.approx(0.5)]
    assert flipping.settings()["config"]["flip_average"] is True


def test_load_detector_overrides_the_cards_setting_only_when_asked():
    pytest.importorskip("tensorflow")
    from temnet_app.jobs import default_model_dir, load_detector

    card = json.loads((default_model_dir() / "model_card.json").read_text())
    assert load_detector().config.flip_average is card["config"].get("flip_average", False)
    assert load_detector(flips=True).config.flip_average is True
    assert load_detector(flips=False).settings()["config"]["flip_average"] is False
