"""Anchor generation: hand-listed coordinates on tiny images, ordering, numpy vs TF."""

import numpy as np
import pytest

from temnet_app.detector.model import anchors as A
from temnet_app.detector.model import config as C


def test_tiny_image_known_anchors():
    # 16 x 16 image, level 3 (stride 8): 2 x 2 cells centred at 4 and 12 px.
    # Scale 8, ratios 1 (8 x 8) and 4 (w = 16, h = 4). Order: row, column, ratio.
    got = A.generate_anchors((16, 16), levels=[3], scales=[8], ratios=[1.0, 4.0])
    expected = [[0, 0, 8, 8], [-4, 2, 12, 6],        # cell (0, 0), centre (4, 4)
                [8, 0, 16, 8], [4, 2, 20, 6],        # cell (0, 1), centre (12, 4)
                [0, 8, 8, 16], [-4, 10, 12, 14],     # cell (1, 0), centre (4, 12)
                [8, 8, 16, 16], [4, 10, 20, 14]]     # cell (1, 1), centre (12, 12)
    np.testing.assert_allclose(got, expected)


def test_anchor_stride_keeps_every_second_cell():
    # 32 x 24 image, level 3: 3 rows x 4 columns of cells; stride 2 keeps rows 0, 2 and
    # columns 0, 2 -> centres x in {4, 20}, y in {4, 20}. Scale 4, ratio 1.
    got = A.generate_anchors((24, 32), levels=[3], scales=[4], ratios=[1.0], anchor_stride=2)
    expected = [[2, 2, 6, 6], [18, 2, 22, 6], [2, 18, 6, 22], [18, 18, 22, 22]]
    np.testing.assert_allclose(got, expected)
    assert A.grid_shape((24, 32), 3, 2) == (2, 2)


def test_levels_concatenate_finest_first_and_round_up():
    # 96 x 160 input: level 2 -> 24 x 40 cells, level 6 (stride 64) -> ceil: 2 x 3 cells.
    got = A.generate_anchors((96, 160), levels=[2, 6], scales=[16, 256], ratios=[1.0])
    assert got.shape == (24 * 40 + 2 * 3, 4)
    np.testing.assert_allclose(got[0], [-6, -6, 10, 10])            # centre (2, 2), side 16
    np.testing.assert_allclose(got[24 * 40], [-96, -96, 160, 160])  # centre (32, 32), 256
    np.testing.assert_allclose(got[-1], [32, -32, 288, 224])        # centre (160, 96)


def test_area_and_ratio_of_each_anchor():
    cell = A.cell_anchors(128, [0.5, 1.0, 2.0])
    w, h = cell[:, 2] - cell[:, 0], cell[:, 3] - cell[:, 1]
    np.testing.assert_allclose(w * h, 128.0 ** 2)
    np.testing.assert_allclose(w / h, [0.5, 1.0, 2.0])


def test_cached_and_read_only():
    a = A.anchors_for_config(C.paper(), (512, 512))
    assert a is A.anchors_for_config(C.paper(), (512, 512))
    assert not a.flags.writeable and a.dtype == np.float32
    counts = A.anchor_counts(C.paper(), (512, 512))
    # stride 2 on P2..P6 of 512: 64, 32, 16, 8, 4 anchor cells per side, 5 ratios each.
    assert counts == [64 * 64 * 5, 32 * 32 * 5, 16 * 16 * 5, 8 * 8 * 5, 4 * 4 * 5]
    assert len(a) == sum(counts)


@pytest.mark.parametrize("hw", [(64, 96), (96, 160), (512, 512)])
def test_tensorflow_twin_agrees(hw):
    tf = pytest.importorskip("tensorflow")
    for cfg in (C.paper(), C.compact()):
        ref = A.anchors_for_config(cfg, hw)
        got = A.anchors_tf(tf.constant(hw), cfg.rpn_levels, cfg.anchor_scales,
                           cfg.anchor_ratios, cfg.anchor_stride).numpy()
        np.testing.assert_allclose(got, ref, atol=1e-4)
