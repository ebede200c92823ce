"""Known-answer tests for detector.crops: crop geometry, eq. 6 scaling and the 75% rule."""

import numpy as np
import pytest

from temnet_app.detector.data.crops import (crop_step, inside_fractions, labels_in_crop, plan_crops,
                                            plan_micrograph)
from temnet_app.detector.tiling import Window

CROP = Window(0, 0, 1024, 1024, 1024)


def test_crop_origins_of_a_standard_micrograph_at_step_500():
    # 4000 x 2620 at 30,000x: side 1024, step 500.
    # x: 0, 500, ..., 2500 (2500 + 1024 = 3524 < 4000), 3000 would end at 4024 > 4000,
    #    so the last crop is flush: 4000 - 1024 = 2976                     -> 7 columns
    # y: 0, 500, 1000, 1500 (ends 2524 < 2620), then flush 2620 - 1024 = 1596 -> 5 rows
    crops = plan_crops(4000, 2620, 30000)
    assert len(crops) == 35
    assert sorted({c.x0 for c in crops}) == [0, 500, 1000, 1500, 2000, 2500, 2976]
    assert sorted({c.y0 for c in crops}) == [0, 500, 1000, 1500, 1596]
    assert all(c.width == c.height == c.size == 1024 for c in crops)
    assert crops[0] == Window(0, 0, 1024, 1024, 1024)
    assert crops[6] == Window(2976, 0, 4000, 1024, 1024)     # row-major
    assert crops[-1] == Window(2976, 1596, 4000, 2620, 1024)


def test_crop_side_and_step_scale_with_magnification():
    # eq. 6: 1024 * 20000 / 30000 = 682.67 -> 683; step 500 * 683 / 1024 = 333.5 -> 333
    assert crop_step(1024) == 500
    assert crop_step(683) == 333
    assert crop_step(853) == 417          # 500 * 853 / 1024 = 416.50 -> 417
    crops = plan_crops(4000, 2620, 20000)
    assert {c.size for c in crops} == {683}
    # x: 0, 333, ..., 2997 (9 * 333), then flush 4000 - 683 = 3317 -> 11 columns
    assert sorted({c.x0 for c in crops}) == [i * 333 for i in range(10)] + [3317]
    # y: 0, ..., 1665 (5 * 333; ends 2348), then flush 2620 - 683 = 1937 -> 7 rows
    assert sorted({c.y0 for c in crops}) == [i * 333 for i in range(6)] + [1937]
    assert len(crops) == 77


def test_small_image_gets_one_padded_crop_per_short_side():
    crops = plan_crops(1200, 900, 30000)
    # x: 0, then flush 1200 - 1024 = 176; y: one crop spanning the 900 rows
    assert crops == [Window(0, 0, 1024, 900, 1024), Window(176, 0, 1200, 900, 1024)]


def test_inside_fractions_by_hand():
    boxes = [[944, 100, 1044, 200],    # 80 of 100 columns inside -> 0.80
             [950, 100, 1050, 200],    # 74 of 100 -> 0.74
             [949, 100, 1049, 200],    # exactly 75 of 100 -> 0.75
             [934, 934, 1034, 1034],   # corner: 90 x 90 of 100 x 100 -> 0.81
             [2000, 0, 2100, 100]]     # outside -> 0
    np.testing.assert_allclose(inside_fractions(boxes, CROP), [0.80, 0.74, 0.75, 0.81, 0.0])


def test_75_percent_rule_keeps_clips_and_drops():
    boxes = np.array([[944, 100, 1044, 200], [950, 300, 1050, 400], [949, 500, 1049, 600],
                      [934, 934, 1034, 1034]], dtype=float)
    plan = labels_in_crop(boxes, [1, 2, 3, 2], CROP)
    # 80% kept and clipped; 74% dropped; exactly 75% kept; 81% corner kept and clipped
    np.testing.assert_allclose(plan.boxes, [[944, 100, 1024, 200], [949, 500, 1024, 600],
                                            [934, 934, 1024, 1024]])
    assert plan.class_ids.tolist() == [1, 3, 2]
    assert plan.source.tolist() == [0, 2, 3]
    assert plan.dropped == 0 and not plan.is_background


def test_kept_boxes_are_shifted_to_crop_coordinates():
    plan = labels_in_crop([[600, 700, 800, 900], [100, 100, 200, 200]], [2, 1],
                          Window(500, 500, 1524, 1524, 1024))
    np.testing.assert_allclose(plan.boxes, [[100, 200, 300, 400]])
    assert plan.class_ids.tolist() == [2]


def test_no_box_inside_is_a_background_crop():
    plan = labels_in_crop(np.zeros((0, 4)), [], CROP)
    assert plan.is_background and plan.boxes.shape == (0, 4)
    plan = labels_in_crop([[2000, 0, 2100, 100]], [1], CROP)
    assert plan.is_background


def test_max_gt_keeps_the_largest_inside_fractions():
    # 20 boxes wholly inside and 5 boxes 80% inside: with max_gt 20 the partial ones go.
    full = [[40 * i, 10, 40 * i + 30, 40] for i in range(20)]
    partial = [[944, 100 * j, 1044, 100 * j + 50] for j in range(5)]
    plan = labels_in_crop(partial + full, [3] * 5 + [1] * 20, CROP, max_gt=20)
    assert plan.dropped == 5
    assert plan.source.tolist() == list(range(5, 25))            # annotation order kept
    assert plan.class_ids.tolist() == [1] * 20


def test_max_gt_tie_goes_to_the_larger_box():
    # 21 boxes wholly inside; box 7 is the smallest, so it is the one left out.
    boxes = [[40 * i, 10, 40 * i + 30, 40] for i in range(21)]
    boxes[7] = [280, 10, 290, 20]
    plan = labels_in_crop(boxes, [2] * 21, CROP, max_gt=20)
    assert plan.dropped == 1
    assert 7 not in plan.source.tolist() and len(plan.source) == 20


def test_boxes_spilling_past_the_image_are_measured_on_the_image_part():
    # A box running 100 px past the right edge of a 1200-px image: its image part
    # (1100..1200) lies wholly in the flush crop at x0 = 176, so it is kept there.
    plans = plan_micrograph([[1100, 100, 1300, 200]], [2], 1200, 900, 30000)
    assert [p.window.x0 for p in plans] == [0, 176]
    assert plans[0].is_background
    np.testing.assert_allclose(plans[1].boxes, [[924, 100, 1024, 200]])


def test_every_virion_sized_box_lies_wholly_in_some_crop():
    rng = np.random.default_rng(3)
    size = rng.uniform(180, 350, size=(300, 2))
    x1 = rng.uniform(0, 4000 - size[:, 0])
    y1 = rng.uniform(0, 2620 - size[:, 1])
    boxes = np.stack([x1, y1, x1 + size[:, 0], y1 + size[:, 1]], axis=1)
    plans = plan_micrograph(boxes, np.ones(300, int), 4000, 2620, 30000, max_gt=1000)
    best = np.zeros(300)
    for p in plans:
        best = np.maximum(best, inside_fractions(boxes, p.window))
    assert best.min() == pytest.approx(1.0)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        labels_in_crop([[0, 0, 10, 10]], [1], CROP, min_inside=0.0)
    with pytest.raises(ValueError):
        labels_in_crop([[0, 0, 10, 10]], [1, 2], CROP)
    with pytest.raises(ValueError):
        crop_step(0)
