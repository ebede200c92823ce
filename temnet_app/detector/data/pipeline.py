"""The training data pipeline: labelled micrographs -> crops -> augmented batches (tf.data).

Sources and the split are in :mod:`.labelled`, the crop geometry and the 75% rule in
:mod:`.crops`, the augmentation in :mod:`.augment`. Nothing is written to disk: crops are cut
and augmented on the fly each epoch.

How crops are made. Each micrograph is decoded once (:func:`read_micrograph`: 8-bit grey, info
band cropped; a uniform frame at its edges, which inference leaves out, painted the mean grey)
and resized as a whole by ``s = net_input / crop_side`` (0.5 at 30,000x; the crop side follows
eq. 6) with the resampling inference uses (:func:`tiling.resize_uint8`). A crop is
then a ``net_input`` square slice of that image; a crop running past a small image is padded
with the micrograph's mean grey, as inference pads its windows. This equals cutting the
1,024-px crop and resizing it (the paper's order) up to the anti-aliasing filter at the crop
border, is exactly what "whole" inference mode sees, and is ~4x cheaper in memory and time.
Labels are chosen in micrograph pixels (:func:`crops.plan_micrograph`) and mapped to network
pixels with the scale factors actually applied to the image.

Memory: the resized micrographs are cached (LRU) up to ``cache_mb`` (default 512 MB, about
190 micrographs of 4,000 x 2,620 at 30,000x, 2.6 MB each). When everything fits, crops are
shuffled across the whole dataset; otherwise each epoch walks the micrographs in a random order
(each decoded once per epoch) with the crops of a micrograph shuffled, and the tf.data shuffle
buffer mixes neighbouring micrographs.

Background crops (no label) are kept at ``background_fraction`` (default 0.2) of their number:
for training a fresh random subset each epoch, for validation a fixed subset, so the number of
crops per epoch is constant and known (the dataset's cardinality).

Batches: ``(images (B, S, S, C) float32, gt_boxes (B, G, 4) float32, gt_class_ids (B, G)
int32)`` with S = ``config.net_input``, C = ``config.input_channels`` (grey repeated),
G = ``config.max_gt_boxes``; boxes xyxy in network pixels, padding rows zero with class 0.
Images are raw 0-255 grey values, because the model normalises inside (the feature extractor's
``PixelNormalization`` layer with the config mean / std); ``normalise=True`` applies
``(x - pixel_mean) / pixel_std`` here instead, for a model without that layer. The last batch
of an epoch may be smaller.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Union

import numpy as np

from temnet_app.core.boxes import ClassScheme
from temnet_app.core.errors import AnnotationError
from temnet_app.core.micrographs import read_micrograph
from temnet_app.core.micrographs.frame import find_frame
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress
from temnet_app.detector.data.crops import MIN_INSIDE, TRAIN_STEP, CropPlan, plan_micrograph
from temnet_app.detector.data.labelled import LabelledMicrograph
from temnet_app.detector.model import DetectorConfig
from temnet_app.detector.tiling import pad_value, resize_uint8, window_size

__all__ = ["CropSettings", "CropSource", "make_dataset", "describe"]


@dataclass(frozen=True)
class CropSettings:
    """How crops are cut and served (lengths in micrograph pixels at the training
    magnification, scaled with the crop side for other magnifications)."""

    step: int = TRAIN_STEP
    min_inside: float = MIN_INSIDE
    background_fraction: float = 0.2
    cache_mb: float = 512.0
    shuffle_buffer: int = 64

    def __post_init__(self) -> None:
        if self.step < 1:
            raise ValueError(f"step must be at least 1 px, got {self.step!r}")
        if not 0.0 < self.min_inside <= 1.0:
            raise ValueError(f"min_inside must be in (0, 1], got {self.min_inside!r}")
        if not 0.0 <= self.background_fraction <= 1.0:
            raise ValueError(f"background_fraction must be in [0, 1], got "
                             f"{self.background_fraction!r}")
        if self.cache_mb < 0 or self.shuffle_buffer < 1:
            raise ValueError("cache_mb must be >= 0 and shuffle_buffer >= 1")


@dataclass(frozen=True, eq=False)
class _Scaled:
    pixels: np.ndarray  # (Hs, Ws) uint8 at network scale
    fx: float
    fy: float
    pad: int


class CropSource:
    """The planned crops of a set of labelled micrographs, served as numpy arrays.

    Construction decodes every micrograph once (to learn its size after the info-band crop)
    and plans its crops; ``progress`` / ``cancel`` follow that pass.
    """

    def __init__(self, micrographs: Sequence[LabelledMicrograph], config: DetectorConfig,
                 settings: CropSettings = CropSettings(), *,
                 progress: Optional[ProgressFn] = None,
                 cancel: Optional[CancelToken] = None) -> None:
        self.micrographs = list(micrographs)
        if not self.micrographs:
            raise ValueError("no labelled micrographs to make crops from")
        self.config = config
        self.settings = settings
        self.size = int(config.net_input)
        self.max_gt = int(config.max_gt_boxes)
        self._cache: OrderedDict[int, _Scaled] = OrderedDict()
        self._lock = threading.Lock()  # tf.data may run two generators of one source at once
        self._cached_bytes = 0
        self._budget = int(settings.cache_mb * 1024 * 1024)
        progress = progress or no_progress
        self.sides: list[int] = []
        self.image_sizes: list[tuple[int, int]] = []
        self.plans: list[list[CropPlan]] = []
        scaled_bytes = 0
        for i, m in enumerate(self.micrographs):
            check_cancel(cancel)
            progress(i / len(self.micrographs), f"planning crops of {m.key}")
            scaled = self._load(i, plan=True)
            scaled_bytes += scaled.pixels.nbytes
        self.fits_in_cache = scaled_bytes <= self._budget
        progress(1.0, f"planned {self.crop_count} crops of {len(self.micrographs)} micrographs")

    # -- loading and planning -------------------------------------------------------------
    def _load(self, index: int, plan: bool = False) -> _Scaled:
        with self._lock:
            return self._load_locked(index, plan)

    def _load_locked(self, index: int, plan: bool) -> _Scaled:
        hit = self._cache.get(index)
        if hit is not None:
            self._cache.move_to_end(index)
            return hit
        m = self.micrographs[index]
        pixels = read_micrograph(m.path).pixels
        frame = find_frame(pixels)
        if any(frame):                  # as inference leaves it out, the crops see background
            pixels = frame.filled(pixels, pad_value(frame.inside(pixels)))
        height, width = pixels.shape
        side = window_size(m.magnification, self.config.window, self.config.train_magnification)
        if plan:
            xyxy = np.array([b.xyxy() for b in m.boxes], dtype=np.float64).reshape(-1, 4)
            ids = np.array([b.class_id for b in m.boxes], dtype=np.int64)
            self.sides.append(side)
            self.image_sizes.append((width, height))
            self.plans.append(plan_micrograph(
                xyxy, ids, width, height, m.magnification, train_window=self.config.window,
                step=self.settings.step, train_magnification=self.config.train_magnification,
                min_inside=self.settings.min_inside, max_gt=self.max_gt))
        scale = self.size / side
        ws, hs = max(1, int(round(width * scale))), max(1, int(round(height * scale)))
        scaled = _Scaled(resize_uint8(pixels, ws, hs), ws / width, hs / height,
                         pad_value(pixels))
        self._cache[index] = scaled
        self._cached_bytes += scaled.pixels.nbytes
        while self._cached_bytes > self._budget and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= old.pixels.nbytes
        return scaled

    def network_image(self, index: int) -> tuple[np.ndarray, float, float, int]:
        """Micrograph ``index`` resized to network scale: ``(pixels (Hs, Ws) uint8, fx, fy,
        pad grey)``, ``fx`` / ``fy`` mapping micrograph pixels to network pixels."""
        scaled = self._load(index)
        return scaled.pixels, scaled.fx, scaled.fy, scaled.pad

    @property
    def crop_count(self) -> int:
        return sum(len(p) for p in self.plans)

    def _indices(self, background: bool) -> list[tuple[int, int]]:
        return [(mi, ci) for mi, plans in enumerate(self.plans)
                for ci, p in enumerate(plans) if p.is_background == background]

    def background_per_epoch(self) -> int:
        """Background crops served per epoch: ``round(fraction * background crops)``."""
        return int(round(self.settings.background_fraction * len(self._indices(True))))

    def crops_per_epoch(self) -> int:
        return len(self._indices(False)) + self.background_per_epoch()

    # -- serving --------------------------------------------------------------------------
    def crop(self, mi: int, ci: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Crop ``ci`` of micrograph ``mi``: ``(image (S, S) uint8, boxes (G, 4) float32,
        class_ids (G,) int32)``, boxes in network pixels, zero-padded."""
        plan = self.plans[mi][ci]
        scaled = self._load(mi)
        hs, ws = scaled.pixels.shape
        w = plan.window
        ox = min(int(round(w.x0 * scaled.fx)), max(ws - self.size, 0))
        oy = min(int(round(w.y0 * scaled.fy)), max(hs - self.size, 0))
        part = scaled.pixels[oy:oy + self.size, ox:ox + self.size]
        if part.shape == (self.size, self.size):
            image = np.array(part, copy=True)
        else:
            image = np.full((self.size, self.size), scaled.pad, dtype=np.uint8)
            image[:part.shape[0], :part.shape[1]] = part
        boxes = np.zeros((self.max_gt, 4), dtype=np.float32)
        ids = np.zeros((self.max_gt,), dtype=np.int32)
        k = len(plan.class_ids)
        if k:
            xyxy = (plan.boxes + [w.x0, w.y0, w.x0, w.y0]) * [scaled.fx, scaled.fy,
                                                              scaled.fx, scaled.fy]
            xyxy = np.clip(xyxy - [ox, oy, ox, oy], 0.0, float(self.size))
            boxes[:k] = xyxy
            ids[:k] = plan.class_ids
        return image, boxes, ids

    def epoch_order(self, epoch: int, training: bool, seed: int) -> list[tuple[int, int, int]]:
        """``(micrograph, crop, sample seed)`` triples served in one epoch (see the module
        docstring for the order)."""
        labelled, background = self._indices(False), self._indices(True)
        n_bg = self.background_per_epoch()
        rng = np.random.default_rng([int(seed), int(epoch) if training else 0, 7])
        chosen = [background[i] for i in sorted(rng.choice(len(background), n_bg,
                                                           replace=False))] if n_bg else []
        items = labelled + chosen
        if training:
            if self.fits_in_cache:
                items = [items[i] for i in rng.permutation(len(items))]
            else:
                by_mg: dict[int, list] = {}
                for item in items:
                    by_mg.setdefault(item[0], []).append(item)
                items = []
                for mi in rng.permutation(sorted(by_mg)):
                    group = by_mg[int(mi)]
                    items.extend(group[i] for i in rng.permutation(len(group)))
        else:
            items.sort()
        seeds = rng.integers(0, 2 ** 62, size=len(items))
        return [(mi, ci, int(s)) for (mi, ci), s in zip(items, seeds)]

    def generator(self, training: bool, seed: int):
        """A callable returning a fresh generator per pass (epoch ``0, 1, ...`` when
        training) of ``(image, boxes, class_ids, sample_seed)``."""
        epochs = itertools.count()

        def generate():
            epoch = next(epochs)
            for mi, ci, sample_seed in self.epoch_order(epoch, training, seed):
                image, boxes, ids = self.crop(mi, ci)
                yield image, boxes, ids, np.int64(sample_seed)

        return generate


def make_dataset(micrographs: Union[Sequence[LabelledMicrograph], CropSource],
                 config: DetectorConfig, training: bool, batch_size: Optional[int] = None,
                 seed: int = 0, *, settings: Optional[CropSettings] = None,
                 augmentation=None, normalise: bool = False):
    """A streaming ``tf.data.Dataset`` of batches (see the module docstring).

    ``micrographs``: labelled micrographs or a :class:`CropSource` already planned (shares
    the decoding with :func:`describe`). ``training`` switches on shuffling, the per-epoch
    background subset and augmentation (an :class:`~.augment.AugmentSettings`, default
    settings when None). ``batch_size`` defaults to ``config.batch_size``. Each pass over
    the dataset is one epoch; its cardinality is the number of batches per epoch.
    """
    source = micrographs if isinstance(micrographs, CropSource) else CropSource(
        micrographs, config, settings or CropSettings())
    if source.crops_per_epoch() == 0:
        raise AnnotationError(f"no crops to {'train' if training else 'validate'} on: the "
                              f"{len(source.micrographs)} labelled micrograph(s) hold no virion "
                              f"box and background crops are switched off")

    import tensorflow as tf

    from temnet_app.detector.data.augment import AugmentSettings, augment, zoom

    batch_size = int(batch_size or config.batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    aug = augmentation if augmentation is not None else AugmentSettings()
    s, g, c = source.size, source.max_gt, int(config.input_channels)
    mean, std = float(config.pixel_mean), float(config.pixel_std)
    signature = (tf.TensorSpec((s, s), tf.uint8), tf.TensorSpec((g, 4), tf.float32),
                 tf.TensorSpec((g,), tf.int32), tf.TensorSpec((), tf.int64))
    ds = tf.data.Dataset.from_generator(source.generator(training, seed),
                                        output_signature=signature)
    ds = ds.apply(tf.data.experimental.assert_cardinality(source.crops_per_epoch()))
    if training:
        ds = ds.shuffle(source.settings.shuffle_buffer, seed=seed, reshuffle_each_iteration=True)

    def prepare(image, boxes, class_ids, sample_seed):
        if training:
            image, boxes, class_ids = zoom(image, boxes, class_ids, sample_seed, aug,
                                           source.settings.min_inside)
            image, boxes = augment(image, boxes, class_ids, sample_seed, aug)
        image = tf.cast(image, tf.float32)
        image = tf.tile(image[:, :, None], [1, 1, c])
        if normalise:
            image = (image - mean) / std
        return image, boxes, class_ids

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def describe(micrographs: Union[Sequence[LabelledMicrograph], CropSource],
             config: DetectorConfig, settings: Optional[CropSettings] = None) -> dict:
    """A JSON-able summary for the model card: micrographs, boxes per class, magnifications,
    crop sides, crops (labelled / background / per epoch), labels kept in crops per class,
    labels lost to ``max_gt`` and boxes that lie >= 75% inside no crop."""
    source = micrographs if isinstance(micrographs, CropSource) else CropSource(
        micrographs, config, settings or CropSettings())
    scheme = ClassScheme(config.class_names)

    def name(class_id: int) -> str:
        try:
            return scheme.name(class_id)
        except ValueError:
            return f"class {class_id}"

    boxes = {n: 0 for n in scheme.names}
    in_crops = {n: 0 for n in scheme.names}
    mags: dict[str, int] = {}
    sides: dict[str, int] = {}
    uncovered = dropped = 0
    per_mg = []
    for m, plans, side in zip(source.micrographs, source.plans, source.sides):
        for b in m.boxes:
            boxes[name(b.class_id)] = boxes.get(name(b.class_id), 0) + 1
        mag = f"{m.magnification:g}"
        mags[mag] = mags.get(mag, 0) + 1
        sides[mag] = side
        covered: set[int] = set()
        for p in plans:
            covered.update(int(i) for i in p.source)
            dropped += p.dropped
            for c in p.class_ids:
                in_crops[name(int(c))] = in_crops.get(name(int(c)), 0) + 1
        uncovered += sum(1 for i in range(len(m.boxes)) if i not in covered)
        per_mg.append(len(plans))
    n_bg = len(source._indices(True))
    return {
        "micrographs": len(source.micrographs), "boxes": sum(boxes.values()),
        "boxes_per_class": boxes, "magnifications": mags, "crop_side_px": sides,
        "crops": {"total": source.crop_count, "labelled": source.crop_count - n_bg,
                  "background": n_bg, "background_per_epoch": source.background_per_epoch(),
                  "per_epoch": source.crops_per_epoch(),
                  "per_micrograph_min": min(per_mg), "per_micrograph_max": max(per_mg)},
        "labels_in_crops_per_class": in_crops, "labels_dropped_max_gt": dropped,
        "boxes_in_no_crop": uncovered, "net_input": source.size, "max_gt": source.max_gt,
        "settings": asdict(source.settings), "cached_all": source.fits_in_cache,
    }
