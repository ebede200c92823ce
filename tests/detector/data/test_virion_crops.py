"""Isolated virion crops for pre-training: crop side, centring, edge padding, labels (numpy)."""

import numpy as np
import pytest

from temnet_app.core.boxes import Box
from temnet_app.detector import DetectorConfig, preset
from temnet_app.detector.data import LabelledMicrograph
from temnet_app.detector.data.virion_crops import crop_side, cut_virions


class FakeSource:
    """The two things cut_virions uses of a CropSource: micrographs and network_image."""

    def __init__(self, micrographs, images, scale):
        self.micrographs = micrographs
        self.images = images
        self.scale = scale

    def network_image(self, index):
        return self.images[index], self.scale, self.scale, 77


def test_crop_side_is_400_micrograph_pixels_at_network_scale_rounded_to_32():
    assert crop_side(preset("compact")) == 192  # 400 * 512 / 1024 = 200 -> 192
    assert crop_side(preset("paper")) == 192
    assert crop_side(DetectorConfig(net_input=64, window=512, window_overlap=128)) == 64
    assert crop_side(DetectorConfig(net_input=1024, window=1024)) == 384  # 400 -> 384


def _micrograph(boxes):
    return LabelledMicrograph(key="m", path="m.tif", boxes=boxes)


def test_crops_are_centred_on_the_box_at_network_scale_and_padded_past_the_edge():
    # Network-scale image 100 x 80 (micrograph pixels x 0.5); a bright 10 x 10 block at
    # network (40..50, 20..30) is the virion of micrograph box (80, 40, 100, 60).
    net = np.zeros((80, 100), np.uint8)
    net[20:30, 40:50] = 200
    boxes = [Box(80, 40, 100, 60, class_id=2),      # centre (90, 50) -> network (45, 25)
             Box(0, 0, 5, 5, class_id=3),          # at the corner: mostly padding
             Box(50, 50, 60, 60, class_id=9)]      # not a class of the config: skipped
    cfg = DetectorConfig(net_input=64, window=512, window_overlap=128)
    crops = cut_virions(FakeSource([_micrograph(boxes)], [net], 0.5), cfg, side=32)
    assert crops.images.shape == (2, 32, 32) and crops.images.dtype == np.uint8
    assert crops.labels.tolist() == [1, 2]  # 0-based classes
    assert crops.source.tolist() == [[0, 0], [0, 1]]
    first = crops.images[0]
    rows, cols = np.nonzero(first == 200)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (11, 20, 11, 20)  # centred
    corner = crops.images[1]  # centre (2.5, 2.5) * 0.5 = 1.25: x0 = y0 = round(1.25 - 16) = -15
    assert (corner[:15, :] == 77).all() and (corner[:, :15] == 77).all()
    assert (corner[15:, 15:] == 0).all()
    assert crops.class_counts(3) == [0, 1, 1]


def test_micrographs_without_boxes_give_no_crops():
    cfg = DetectorConfig(net_input=64, window=512, window_overlap=128)
    empty = cut_virions(FakeSource([_micrograph([])], [np.zeros((10, 10), np.uint8)], 1.0),
                        cfg)
    assert len(empty) == 0 and empty.images.shape == (0, 64, 64)


@pytest.mark.parametrize("magnification, expected", [(30000.0, 132), (20000.0, 132)])
def test_real_source_keeps_a_virion_the_same_network_size_at_any_magnification(
        tmp_path, magnification, expected):
    """A 264-px virion at 30,000x is 176 px at 20,000x; both come out ~132 network px."""
    from PIL import Image

    from temnet_app.detector.data.pipeline import CropSource

    side_px = 264 if magnification == 30000.0 else 176
    image = np.full((1200, 1600), 180, np.uint8)
    image[400:400 + side_px, 600:600 + side_px] = 20
    path = tmp_path / "m.png"
    Image.fromarray(image).save(path)
    m = LabelledMicrograph(key="m", path=path, magnification=magnification,
                           boxes=[Box(600, 400, 600 + side_px, 400 + side_px, class_id=1)])
    cfg = preset("compact")
    crops = cut_virions(CropSource([m], cfg), cfg)
    dark = crops.images[0] < 100
    width = int(dark.any(axis=0).sum())
    assert abs(width - expected) <= 2, width
