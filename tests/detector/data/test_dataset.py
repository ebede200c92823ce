"""The training pipeline: crops served at network scale, describe(), and the tf.data batches."""

import json
import math

import numpy as np
import pytest
import tifffile

from temnet_app.core.boxes import Box
from temnet_app.core.errors import AnnotationError
from temnet_app.detector.data import LabelledMicrograph, read_folder, split_micrographs
from temnet_app.detector.data.pipeline import CropSettings, CropSource, describe, make_dataset
from temnet_app.detector.model.config import DetectorConfig, compact
from temnet_app.simulator.simulate import simulate_set, tiff_description

CONFIG = DetectorConfig()
DARK, BRIGHT = 20, 230


def _painted(path, width, height, boxes, magnification=30000):
    """A dark micrograph with a bright filled rectangle at every box (integer corners)."""
    image = np.full((height, width), DARK, np.uint8)
    for b in boxes:
        image[int(b.y1):int(b.y2), int(b.x1):int(b.x2)] = BRIGHT
    tifffile.imwrite(path, image, photometric="minisblack", metadata=None,
                     description=tiff_description(magnification))
    return LabelledMicrograph(path.name, path, tuple(boxes), magnification)


@pytest.mark.parametrize("magnification", [30000, 20000])
def test_crop_pixels_and_network_boxes_agree(tmp_path, magnification):
    boxes = [Box(100, 120, 380, 380, 2), Box(700, 150, 960, 420, 1),      # well inside
             Box(980, 600, 1230, 880, 3), Box(1500, 900, 1760, 1150, 2),
             Box(1900, 40, 2040, 330, 1), Box(30, 1000, 330, 1290, 3)]
    m = _painted(tmp_path / "m.tif", 2048, 1400, boxes, magnification)
    source = CropSource([m], CONFIG, CropSettings(background_fraction=1.0))
    side = 1024 if magnification == 30000 else 683
    assert source.sides == [side]
    checked = 0
    for ci, plan in enumerate(source.plans[0]):
        image, net_boxes, ids = source.crop(0, ci)
        assert image.shape == (512, 512) and image.dtype == np.uint8
        k = len(plan.class_ids)
        assert (ids[:k] > 0).all() and not ids[k:].any() and not net_boxes[k:].any()
        fg = (image.astype(float) - DARK) / (BRIGHT - DARK)
        ys, xs = np.mgrid[0:512, 0:512] + 0.5              # pixel centres
        for x1, y1, x2, y2 in net_boxes[:k]:
            # Chebyshev distance outside the box (negative inside): bright more than 1.5 px
            # inside, dark 2-4 px outside (the resize blurs edges by about one pixel)
            outside = np.maximum.reduce([x1 - xs, xs - x2, y1 - ys, ys - y2])
            assert fg[outside < -1.5].min() > 0.95
            assert fg[(outside > 2.0) & (outside <= 4.0)].max() < 0.05
            if x1 > 4 and y1 > 4 and x2 < 508 and y2 < 508:
                # centre of the bright mass = box centre; mass = box area (network px)
                near = np.where(outside <= 4.0, fg, 0.0)
                mass = near.sum()
                assert (xs * near).sum() / mass == pytest.approx((x1 + x2) / 2, abs=0.3)
                assert (ys * near).sum() / mass == pytest.approx((y1 + y2) / 2, abs=0.3)
                assert mass == pytest.approx((x2 - x1) * (y2 - y1), rel=0.02)
                checked += 1
    assert checked >= 6


def test_describe_counts_by_hand(tmp_path):
    # 2048 x 1024 at 30,000x: crops at x = 0, 500, 1000, 1024 (flush), one row -> 4 crops.
    #  mature (100..300) lies only in crop 0; eccentric (1800..2000) in crops 1000 and 1024;
    #  the 1400-px-wide immature box is at most 1024/1400 = 73% inside any crop -> no crop,
    #  and crop 500 (which it crosses) stays a background crop.
    boxes = [Box(100, 100, 300, 300, 2), Box(1800, 500, 2000, 700, 1),
             Box(300, 800, 1700, 900, 3)]
    m = _painted(tmp_path / "m.tif", 2048, 1024, boxes)
    summary = describe([m], CONFIG)
    assert summary["micrographs"] == 1 and summary["boxes"] == 3
    assert summary["boxes_per_class"] == {"eccentric": 1, "mature": 1, "immature": 1}
    assert summary["magnifications"] == {"30000": 1} and summary["crop_side_px"] == {"30000": 1024}
    assert summary["crops"] == {"total": 4, "labelled": 3, "background": 1,
                                "background_per_epoch": 0, "per_epoch": 3,
                                "per_micrograph_min": 4, "per_micrograph_max": 4}
    assert summary["labels_in_crops_per_class"] == {"eccentric": 2, "mature": 1, "immature": 0}
    assert summary["boxes_in_no_crop"] == 1 and summary["labels_dropped_max_gt"] == 0
    assert json.loads(json.dumps(summary)) == summary             # ready for the model card
    source = CropSource([m], CONFIG, CropSettings(background_fraction=1.0))
    assert [p.window.x0 for p in source.plans[0]] == [0, 500, 1000, 1024]
    assert describe(source, CONFIG)["crops"]["per_epoch"] == 4


def test_epoch_order_resamples_background_and_keeps_validation_fixed(tmp_path):
    # 3000 x 1024: crops at x = 0, 500, 1000, 1500, 1976; only crop 0 is labelled.
    items = [_painted(tmp_path / f"m{i}.tif", 3000, 1024, [Box(100, 100, 300, 300, 2)])
             for i in range(2)]
    source = CropSource(items, CONFIG, CropSettings(background_fraction=0.5))
    assert source.crop_count == 10 and source.crops_per_epoch() == 2 + 4   # round(0.5 * 8)
    epochs = [source.epoch_order(e, True, seed=1) for e in range(6)]
    for order in epochs:
        assert len(order) == 6 and {(0, 0), (1, 0)} <= {(mi, ci) for mi, ci, _ in order}
    assert len({frozenset((mi, ci) for mi, ci, _ in o) for o in epochs}) > 1
    val = [source.epoch_order(e, False, seed=1) for e in range(3)]
    assert val[0] == val[1] == val[2] and val[0] == sorted(val[0])
    # a cache too small for the set: each micrograph's crops are served together
    small = CropSource(items, CONFIG, CropSettings(background_fraction=0.5, cache_mb=0))
    assert not small.fits_in_cache and source.fits_in_cache
    order = [mi for mi, _, _ in small.epoch_order(3, True, seed=1)]
    assert order == sorted(order) or order == sorted(order, reverse=True)
    np.testing.assert_array_equal(small.crop(1, 2)[0], source.crop(1, 2)[0])


def test_dataset_from_a_simulated_folder_yields_documented_batches(tmp_path):
    simulate_set(tmp_path / "sim", 3, width=1200, height=900, seed=11)
    items = read_folder(tmp_path / "sim")
    split = split_micrographs(items, 0.34, seed=0)
    train, val = split.select(items)
    assert len(train) == 2 and len(val) == 1
    source = CropSource(train, CONFIG)
    assert source.crops_per_epoch() == 4                # 1200 x 900: 2 crops each
    ds = make_dataset(source, CONFIG, training=True, batch_size=3, seed=5)
    assert int(ds.cardinality()) == math.ceil(4 / 3)
    batches = list(ds.as_numpy_iterator())
    images, gt_boxes, gt_ids = batches[0]
    assert images.shape == (3, 512, 512, 3) and images.dtype == np.float32
    assert gt_boxes.shape == (3, 20, 4) and gt_boxes.dtype == np.float32
    assert gt_ids.shape == (3, 20) and gt_ids.dtype == np.int32
    assert batches[1][0].shape[0] == 1                  # the last batch of an epoch is smaller
    assert images.min() >= 0.0 and images.max() <= 255.0
    np.testing.assert_array_equal(images[..., 0], images[..., 2])   # grey repeated
    for boxes, ids in zip(np.concatenate([b[1] for b in batches]),
                          np.concatenate([b[2] for b in batches])):
        valid = ids > 0
        assert valid.any() and set(ids[valid]) <= {1, 2, 3}
        assert (boxes[valid, 2:] > boxes[valid, :2]).all()
        assert boxes[valid].min() >= 0.0 and boxes[valid].max() <= 512.0
        assert not boxes[~valid].any()

    # validation: no augmentation, the same batches every pass; compact config -> 1 channel
    cfg = compact()
    val_ds = make_dataset(val, cfg, training=False, batch_size=2)
    first = list(val_ds.as_numpy_iterator())
    second = list(val_ds.as_numpy_iterator())
    assert first[0][0].shape == (2, 512, 512, 1)
    for a, b in zip(first, second):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    raw = first[0][0]
    assert np.allclose(raw, np.round(raw))              # unaugmented crops are whole grey levels
    normed = next(make_dataset(val, cfg, training=False, batch_size=2,
                               normalise=True).as_numpy_iterator())[0]
    np.testing.assert_allclose(normed, (raw - 131.51) / 47.11, rtol=1e-5, atol=1e-5)


def test_nothing_to_train_on_is_a_clear_error(tmp_path):
    m = _painted(tmp_path / "empty.tif", 1200, 900, [])
    with pytest.raises(AnnotationError, match="no crops to train on"):
        make_dataset([m], CONFIG, training=True, settings=CropSettings(background_fraction=0))


def test_bad_settings_raise():
    with pytest.raises(ValueError):
        CropSettings(background_fraction=1.5)
    with pytest.raises(ValueError):
        CropSettings(min_inside=0.0)
    with pytest.raises(ValueError):
        CropSource([], CONFIG)


def test_a_black_frame_around_a_micrograph_is_painted_its_mean_grey(tmp_path):
    rng = np.random.default_rng(8)
    image = np.clip(rng.normal(140, 30, (1400, 2048)), 0, 255).astype(np.uint8)
    image[:4] = 0                                   # as the real reference: black rows on top
    image[:, -2:] = 0                               # and columns at a side
    path = tmp_path / "framed.tif"
    tifffile.imwrite(path, image, photometric="minisblack", metadata=None,
                     description=tiff_description(30000))
    m = LabelledMicrograph(path.name, path, (Box(500, 500, 760, 760, 1),), 30000)
    pixels, fx, fy, pad = CropSource([m], CONFIG).network_image(0)
    assert fx == pytest.approx(0.5) and abs(pad - 140) <= 2
    # the network image (half size) starts with the frame's rows: mean grey now, not black
    assert abs(float(pixels[:2].mean()) - pad) < 3 and abs(float(pixels[:, -1].mean()) - pad) < 3
