import numpy as np
import pytest

from temnet_app.core.boxes import (DEFAULT_SCHEME, Box, ClassScheme, Detection, boxes_from_arrays,
                                   boxes_to_arrays, count_by_class, detections_from_arrays,
                                   filter_by_score)


def test_box_geometry():
    b = Box(10, 20, 40, 100, 2)
    assert (b.width, b.height, b.area) == (30.0, 80.0, 2400.0)
    assert b.center == (25.0, 60.0)
    assert b.shifted(5, -10).xyxy() == (15.0, 10.0, 45.0, 90.0)
    assert b.scaled(0.5).xyxy() == (5.0, 10.0, 20.0, 50.0)
    assert isinstance(b.shifted(1, 1), Box) and b.shifted(1, 1).class_id == 2


def test_detection_keeps_score_through_transforms():
    d = Detection(0, 0, 10, 10, 3, 0.75)
    moved = d.shifted(100, 200)
    assert isinstance(moved, Detection) and moved.score == 0.75 and moved.class_id == 3


@pytest.mark.parametrize("args", [(5, 0, 5, 10, 1), (0, 10, 5, 10, 1), (0, 0, 5, 5, 0),
                                  (0, 0, float("nan"), 5, 1), (0, 0, 5, float("inf"), 1)])
def test_invalid_boxes_rejected(args):
    with pytest.raises(ValueError):
        Box(*args)


@pytest.mark.parametrize("score", [-0.01, 1.01])
def test_invalid_score_rejected(score):
    with pytest.raises(ValueError):
        Detection(0, 0, 1, 1, 1, score)


def test_default_scheme_matches_dataset_ids():
    assert [DEFAULT_SCHEME.name(i) for i in (1, 2, 3)] == ["eccentric", "mature", "immature"]
    assert DEFAULT_SCHEME.id("Mature") == 2
    assert DEFAULT_SCHEME.colour(2) == "#f2c500"  # mature yellow
    with pytest.raises(ValueError):
        DEFAULT_SCHEME.name(4)
    with pytest.raises(ValueError, match="expected one of"):
        DEFAULT_SCHEME.id("budding")


def test_custom_scheme_and_bad_schemes():
    s = ClassScheme(("enveloped", "naked"))
    assert s.ids == (1, 2) and s.id("naked") == 2
    assert s.colour(1) != s.colour(2)
    for names in [(), ("a", "a"), ("a", " ")]:
        with pytest.raises(ValueError):
            ClassScheme(names)


def test_array_round_trip_and_filters():
    dets = [Detection(0, 0, 10, 10, 1, 0.9), Detection(5, 5, 20, 30, 2, 0.4)]
    xyxy, ids, scores = boxes_to_arrays(dets)
    assert xyxy.shape == (2, 4) and ids.tolist() == [1, 2]
    assert detections_from_arrays(xyxy, ids, scores) == dets
    assert boxes_from_arrays(xyxy, ids) == [Box(0, 0, 10, 10, 1), Box(5, 5, 20, 30, 2)]
    empty = boxes_to_arrays([])
    assert empty[0].shape == (0, 4)
    assert filter_by_score(dets, 0.5) == dets[:1]
    assert filter_by_score(dets, 0.4) == dets  # threshold is inclusive
    assert count_by_class(dets) == {"eccentric": 1, "mature": 1, "immature": 0}


def test_detections_from_arrays_drops_degenerate_and_clamps_scores():
    out = detections_from_arrays(np.array([[0, 0, 0, 5], [0, 0, 4, 4]]), [1, 2], [0.5, 1.0000001])
    assert len(out) == 1 and out[0].score == 1.0
