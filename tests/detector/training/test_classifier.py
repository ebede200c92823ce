"""The backbone-as-classifier model of the paper's pre-training stage: it shares (and trains)
the detector's backbone, leaves the FPN alone, and learns from augmented virion crops."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from temnet_app.detector.data.augment import NO_AUGMENTATION  # noqa: E402
from temnet_app.detector.data.virion_crops import VirionCrops  # noqa: E402
from temnet_app.detector.model.assembly import build_parts  # noqa: E402
from temnet_app.detector.model.config import DetectorConfig  # noqa: E402
from temnet_app.detector.training.classifier import (  # noqa: E402
    backbone_model,
    build_classifier,
    classifier_dataset,
)

TINY = DetectorConfig(net_input=64, window=512, window_overlap=128, input_channels=1,
                      fpn_channels=8, rpn_channels=8, head_units=16, anchor_scales=(24.0, 48.0),
                      anchor_ratios=(1.0,), anchor_stride=1, max_gt_boxes=4, batch_size=2)


def _toy_crops(n_per_class=8, side=32, seed=0):
    """Three separable 'morphologies': dark disc, dark ring, bright disc on grey noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side] - (side - 1) / 2.0
    r = np.hypot(xx, yy)
    images, labels = [], []
    for label in range(3):
        for _ in range(n_per_class):
            img = rng.normal(128, 12, (side, side))
            if label == 0:
                img[r < 9] = 40
            elif label == 1:
                img[(r > 7) & (r < 10)] = 40
            else:
                img[r < 9] = 220
            images.append(np.clip(img, 0, 255).astype(np.uint8))
            labels.append(label)
    return VirionCrops(np.stack(images), np.asarray(labels, np.int32),
                       np.zeros((len(labels), 2), np.int64))


def test_backbone_model_ends_at_the_coarsest_backbone_map_and_shares_weights():
    parts = build_parts(TINY)
    backbone = backbone_model(parts)
    out = backbone(np.zeros((1, 64, 64, 1), np.float32))
    assert tuple(out.shape) == (1, 4, 4, 64)  # C4 of TEMNet: stride 16, 64 filters
    feature_ids = {id(w) for w in parts.features.weights}
    assert backbone.weights and all(id(w) in feature_ids for w in backbone.weights)
    assert not any("fpn" in w.path for w in backbone.weights)
    clf = build_classifier(parts, 32)
    assert tuple(clf(np.zeros((2, 32, 32, 1), np.float32)).shape) == (2, 3)


EPOCHS = 20


def test_training_the_classifier_trains_the_backbone_not_the_fpn_and_lowers_the_loss():
    keras.utils.set_random_seed(3)
    parts = build_parts(TINY)
    before = {w.path: w.numpy().copy() for w in parts.features.weights}
    crops = _toy_crops()
    clf = build_classifier(parts, 32)
    clf.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), jit_compile=False,
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = classifier_dataset(crops, TINY, False, 8)
    first = clf.evaluate(ds, verbose=0)
    clf.fit(ds, epochs=EPOCHS, verbose=0, shuffle=False)
    last = clf.evaluate(ds, verbose=0)
    assert last < 0.5 * first, (first, last)
    changed = {w.path for w in parts.features.weights
               if not np.array_equal(before[w.path], w.numpy())}
    assert any(p.startswith("temnet_block") for p in changed)
    assert not any(p.startswith("fpn") for p in changed)


def test_dataset_batches_images_with_their_labels_and_augments_afresh_each_epoch():
    crops = _toy_crops(n_per_class=2)
    val = list(classifier_dataset(crops, TINY, False, 6))
    images, labels = val[0]
    assert images.shape == (6, 32, 32, 1) and images.dtype == tf.float32
    np.testing.assert_array_equal(images.numpy()[..., 0], crops.images.astype(np.float32))
    np.testing.assert_array_equal(labels.numpy(), crops.labels)

    train = classifier_dataset(crops, TINY, True, 6, seed=4)
    epoch1 = next(iter(train))
    epoch2 = next(iter(train))
    for imgs, labs in (epoch1, epoch2):
        assert sorted(labs.numpy().tolist()) == [0, 0, 1, 1, 2, 2]
    assert not np.array_equal(epoch1[0].numpy(), epoch2[0].numpy())
    plain = classifier_dataset(crops, TINY, True, 6, seed=4, augmentation=NO_AUGMENTATION)
    imgs, labs = next(iter(plain))
    for img, lab in zip(imgs.numpy()[..., 0], labs.numpy()):  # un-augmented: some crop of it
        assert any(np.array_equal(img, c) for c, cl in zip(crops.images, crops.labels)
                   if cl == lab)
