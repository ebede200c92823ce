"""Class-balanced loss weights (detector/training/class_balance.py): known answers."""

import math

import numpy as np
import pytest

from temnet_app.detector.data.crops import CropPlan
from temnet_app.detector.tiling import Window
from temnet_app.detector.training.class_balance import balanced_weights, label_counts


def test_weights_by_hand_for_the_temnet_dataset_mix():
    counts = [678, 896, 232]                     # eccentric, mature, immature labels
    background, *w = balanced_weights(counts)
    raw = [1 / math.sqrt(n / sum(counts)) for n in counts]
    norm = sum(counts) / sum(n * r for n, r in zip(counts, raw))
    assert background == 1.0
    assert w == pytest.approx([r * norm for r in raw])
    assert w == pytest.approx([0.9741, 0.8474, 1.6652], abs=1e-4)
    # the label-weighted mean of the foreground weights stays 1
    assert np.dot(counts, w) / sum(counts) == pytest.approx(1.0)
    # rarer classes weigh more: the ratio of two weights is sqrt of the inverse count ratio
    assert w[2] / w[1] == pytest.approx(math.sqrt(896 / 232))


def test_balanced_classes_weigh_one_and_absent_classes_one():
    assert balanced_weights([50, 50, 50]) == pytest.approx((1.0, 1.0, 1.0, 1.0))
    background, a, b, absent = balanced_weights([10, 90, 0])
    assert (background, absent) == (1.0, 1.0)
    assert a == pytest.approx(3.0 * b) and 10 * a + 90 * b == pytest.approx(100.0)
    assert balanced_weights([0, 0]) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        balanced_weights([])
    with pytest.raises(ValueError):
        balanced_weights([3, -1])


def test_label_counts_sum_the_labels_of_every_crop():
    def plan(ids):
        ids = np.array(ids, np.int32)
        return CropPlan(Window(0, 0, 10, 10, 10), np.zeros((len(ids), 4)), ids,
                        np.arange(len(ids)))

    plans = [[plan([1, 2, 2]), plan([])], [plan([3, 2]), plan([2])]]
    assert label_counts(plans, 3).tolist() == [1, 4, 1]
    assert label_counts(plans, 4).tolist() == [1, 4, 1, 0]
