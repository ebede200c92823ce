"""The detector facade: load a model folder, find virions in whole micrographs.

A model folder holds ``model_card.json`` (name, version, detector config, classes, training
notes, date, app version) and ``weights.weights.h5``. :meth:`Detector.detect` takes a 2-D
uint8 micrograph and its scale and returns :class:`~temnet_app.core.boxes.Detection`
records in full-micrograph pixel coordinates (xyxy), scores above the model's floor (0.05),
sorted by descending score.

Scale is a pixel size in nm (``pixel_size_nm``); a magnification is accepted instead and read
at the reference calibration (0.561 nm/px at 30,000x). The model's training scale is stored as
``train_magnification`` at that same reference calibration (30,000x = 0.561 nm/px), so the
window side of eq. 6 is ``window * s_train / s`` for pixel sizes ``s``.

A uniform frame around the micrograph (black or white edge lines an export leaves;
:mod:`~temnet_app.core.micrographs.frame`) is left out: the detector runs on the part inside it
and the boxes are mapped back.

A model whose config has ``flip_average`` also runs on three mirrored copies of the
micrograph and averages (:mod:`~temnet_app.detector.flip_average`).

Two modes (paper 3.1 and eq. 6): ``tiled`` cuts the micrograph into overlapping windows of
``W = window * M / M_train`` px (1,024 px at 30,000x), resizes each to the network input, runs
them in batches, maps the boxes back and merges them by class-agnostic NMS at 0.3 (on a score
tie the larger box wins); ``whole`` rescales the micrograph once by ``net_input / W`` (sides
rounded to multiples of 32) and runs it in one pass, then applies the same merge.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from temnet_app import __version__
from temnet_app.core import box_math, units
from temnet_app.core.atomic import atomic_write_text
from temnet_app.core.boxes import Detection, detections_from_arrays
from temnet_app.core.errors import MicrographError, ModelError
from temnet_app.core.micrographs.frame import find_frame
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress, scaled
from temnet_app.core.scale import check_pixel_size
from temnet_app.core.scale_check import VIRION_NM
from temnet_app.detector import flip_average, tiling
from temnet_app.detector.model import TILING_MODES, DetectorConfig
from temnet_app.detector.model_card import (CARD_FILE, WEIGHTS_FILE,  # noqa: F401  (re-exported)
                                            make_card, read_card)

_log = logging.getLogger(__name__)

# Memory bounds. Whole-micrograph inference holds the network's activations for the whole
# rescaled image: measured ~115 bytes per network-scale pixel (a 4000x2620 micrograph at
# 30,000x is 2.6 M px and adds ~310 MB). Above this many pixels (~1.4 GB) the micrograph is
# run in tiled windows instead, whose memory does not grow with the image.
WHOLE_BYTES_PER_NET_PIXEL = 115
WHOLE_MAX_NET_PIXELS = 12_000_000
# Tiled windows cost ~30 ms each on 2 CPU cores; more than this (over 10 minutes for one
# micrograph) means the scale is wrong (e.g. a 1,000x label on a 30,000x image): refuse.
MAX_WINDOWS = 20_000


def _check_image(image) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 2 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise MicrographError(f"the detector needs a 2-D 8-bit grey micrograph, got {dtype} "
                              f"with shape {shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise MicrographError(f"micrograph is too small to analyse: {image.shape}")
    return image


class Detector:
    """A loaded (or freshly initialised) detector; see the module docstring."""

    def __init__(self, config: DetectorConfig, model, name: str = "untrained",
                 version: str = "0", card: Optional[dict] = None):
        import tensorflow as tf

        self.config = config
        self.model = model
        self.name = str(name)
        self.version = str(version)
        self.card = dict(card) if card else make_card(config, name, version)
        spec = tf.TensorSpec([None, None, None, config.input_channels], tf.float32)
        # One trace for every batch size and image size (tiles and whole micrographs). The
        # forward pass has no Python control flow, so AutoGraph has nothing to convert (and
        # a frozen app, without the sources, would warn that it cannot read them).
        forward = tf.autograph.experimental.do_not_convert(self._forward)
        self._predict = tf.function(forward, input_signature=[spec], autograph=False)

    def _forward(self, images):
        out = self.model(images, training=False)
        return out["boxes"], out["scores"], out["class_ids"], out["valid"]

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: DetectorConfig, weights_path=None, seed: int = 0,
                    name: str = "untrained", version: str = "0") -> "Detector":
        """Build ``config``'s model: weights from a ``.weights.h5`` file, else Keras's
        initialisers drawn with ``seed`` (this seeds Keras / numpy / Python's global RNGs)."""
        import keras

        from temnet_app.detector.model.assembly import build_inference_model
        from temnet_app.detector.model.weights import load_weights

        if weights_path is None:
            keras.utils.set_random_seed(int(seed))
        model = build_inference_model(config)
        if weights_path is not None:
            load_weights(model, weights_path)
        return cls(config, model, name=name, version=version)

    @classmethod
    def load(cls, model_dir) -> "Detector":
        """Read a model folder (``model_card.json`` + ``weights.weights.h5``)."""
        folder = Path(model_dir)
        if not folder.is_dir():
            raise ModelError(f"model folder not found: {folder}")
        card = read_card(folder)
        config = DetectorConfig.from_dict(card["config"])
        if config.backbone_weights and not Path(config.backbone_weights).is_absolute():
            # a relative path in a card means a file inside the model folder
            config = config.replace(backbone_weights=str(folder / config.backbone_weights))
        classes = card.get("classes", list(config.class_names))
        if list(classes) != list(config.class_names):
            raise ModelError(f"model card {folder / CARD_FILE}: classes {classes} differ from "
                             f"the configuration's {list(config.class_names)}")
        weights = folder / WEIGHTS_FILE
        if not weights.is_file():
            raise ModelError(f"weights file not found: {weights}")
        detector = cls.from_config(config, weights_path=weights, name=card["name"],
                                   version=card["version"])
        detector.card = card
        return detector

    def save(self, model_dir, card: Optional[dict] = None) -> Path:
        """Write weights then the model card into ``model_dir`` (each file atomically)."""
        from temnet_app.detector.model.weights import save_weights

        folder = Path(model_dir)
        card = dict(card) if card else dict(self.card)
        card["config"] = self.config.to_dict()
        card["classes"] = list(self.config.class_names)
        card["class_colours"] = list(self.config.class_colours)
        card.setdefault("name", self.name)
        card.setdefault("version", self.version)
        card.setdefault("date", _dt.date.today().isoformat())
        card.setdefault("app_version", __version__)
        card.setdefault("training", "")
        folder.mkdir(parents=True, exist_ok=True)
        save_weights(self.model, folder / WEIGHTS_FILE)
        atomic_write_text(folder / CARD_FILE, json.dumps(card, indent=2, sort_keys=True) + "\n")
        self.card, self.name, self.version = card, str(card["name"]), str(card["version"])
        return folder

    # -- descriptions -----------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def device(self) -> str:
        """"CPU", or "GPU:0 (<name>)" when TensorFlow sees a GPU (it then runs there)."""
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return "CPU"
        try:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name")
        except (RuntimeError, ValueError):
            name = None
        return f"GPU:0 ({name})" if name else "GPU:0"

    @property
    def scheme(self):
        """The model's :class:`~temnet_app.core.boxes.ClassScheme` (class ids 1..K)."""
        return self.config.class_scheme

    @property
    def score_floor(self) -> float:
        return self.config.min_confidence

    def settings(self, mode: Optional[str] = None) -> dict:
        """JSON-able record of how detections are produced (stored with each run)."""
        return {"model_id": self.model_id, "config": self.config.summary(),
                "mode": self._mode(mode), "window_px_at_train_magnification": self.config.window,
                "window_overlap_px": self.config.window_overlap,
                "train_magnification": self.config.train_magnification,
                "net_input": self.config.net_input, "score_floor": self.score_floor,
                "merge_iou": tiling.MERGE_IOU, "device": self.device}

    def _mode(self, mode: Optional[str]) -> str:
        mode = (mode or self.config.tiling_mode).strip().lower()
        if mode not in TILING_MODES:
            raise ModelError(f"unknown detection mode {mode!r} (choose tiled or whole)")
        return mode

    # -- detection --------------------------------------------------------------------------
    def _run(self, grey_batch: np.ndarray) -> tuple[np.ndarray, ...]:
        import tensorflow as tf

        x = np.repeat(grey_batch[..., None].astype(np.float32), self.config.input_channels, -1)
        try:
            boxes, scores, class_ids, valid = self._predict(x)
        except tf.errors.ResourceExhaustedError:
            raise MemoryError("TensorFlow could not allocate its tensors") from None
        return boxes.numpy(), scores.numpy(), class_ids.numpy(), valid.numpy()

    def window_plan(self, width: int, height: int, magnification: Optional[float] = None, *,
                    pixel_size_nm: Optional[float] = None):
        """``(window side px, overlap px, windows)`` for tiled mode at the given scale."""
        side, overlap = self.window_geometry(magnification, pixel_size_nm=pixel_size_nm)
        return side, overlap, tiling.plan_windows(width, height, side, overlap)

    def window_geometry(self, magnification: Optional[float] = None, *,
                        pixel_size_nm: Optional[float] = None) -> tuple[int, int]:
        """``(window side px, overlap px)`` of tiled mode at the given scale."""
        return self._window_side(_scale(magnification, pixel_size_nm))

    def _window_side(self, pixel_size_nm: float) -> tuple[int, int]:
        cfg = self.config
        side = tiling.window_size(_reference_magnification(pixel_size_nm), cfg.window,
                                  cfg.train_magnification)
        return side, min(side - 1, int(round(cfg.window_overlap * side / cfg.window)))

    def plan(self, width: int, height: int, magnification: Optional[float] = None,
             mode: Optional[str] = None, *,
             pixel_size_nm: Optional[float] = None) -> tuple[str, str]:
        """``(mode to run, note)`` for a ``width`` x ``height`` micrograph: whole mode falls
        back to tiled when its network-scale image exceeds :data:`WHOLE_MAX_NET_PIXELS` (the
        note says so); a tiled plan over :data:`MAX_WINDOWS` raises :class:`MicrographError`.
        """
        cfg = self.config
        size = _scale(magnification, pixel_size_nm)
        chosen, note = self._mode(mode), ""
        if chosen == "whole":
            factor = tiling.whole_image_scale(_reference_magnification(size), cfg.window,
                                              cfg.net_input, cfg.train_magnification)
            net_pixels = (width * factor) * (height * factor)
            if net_pixels > WHOLE_MAX_NET_PIXELS:
                chosen = "tiled"
                note = (f"whole-micrograph inference at {size:.3g} nm/px would need "
                        f"~{net_pixels * WHOLE_BYTES_PER_NET_PIXEL / 1e9:.1f} GB; running in tiled "
                        f"windows")
        if chosen == "tiled":
            side, overlap = self._window_side(size)
            n_windows = tiling.count_windows(width, height, side, overlap)
            if n_windows > MAX_WINDOWS:
                virion = VIRION_NM / size
                raise MicrographError(
                    f"a {width}x{height} px micrograph at {size:.3g} nm/px would need "
                    f"{n_windows:,} detection windows of {side} px (virions ~{virion:.0f} px "
                    f"across; the limit is {MAX_WINDOWS:,}): check its magnification or "
                    f"pixel size")
        return chosen, note

    def detect(self, image: np.ndarray, magnification: Optional[float] = None,
               progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
               mode: Optional[str] = None, *, pixel_size_nm: Optional[float] = None,
               flips: Optional[bool] = None) -> list[Detection]:
        """Detections in full-micrograph pixels (see module docstring).

        The scale is ``pixel_size_nm`` when given, else ``magnification`` at the reference
        calibration, else 0.561 nm/px (30,000x). ``progress(fraction, message)`` is called
        after each batch; ``cancel`` is checked before each batch (raising
        :class:`~temnet_app.core.errors.Cancelled`). ``flips`` (default: the model's
        ``flip_average``) averages over the micrograph and three mirrored copies
        (:mod:`~temnet_app.detector.flip_average`).
        """
        frame = find_frame(_check_image(image))
        if any(frame):
            _log.info("detecting inside a uniform frame of %d / %d / %d / %d px (top / bottom / "
                      "left / right)", *frame)
            image = np.ascontiguousarray(frame.inside(image))
        size = _scale(magnification, pixel_size_nm)
        progress = progress or no_progress
        height, width = image.shape
        chosen, note = self.plan(width, height, mode=mode, pixel_size_nm=size)
        if note:
            _log.info("%s", note)
            progress(0.0, note)
        use_flips = self.config.flip_average if flips is None else bool(flips)
        runs = flip_average.FLIPS if use_flips else flip_average.FLIPS[:1]
        found = []
        for k, (left_right, top_bottom) in enumerate(runs):
            part = scaled(progress, k / len(runs), (k + 1) / len(runs))
            view = flip_average.flip_image(image, left_right, top_bottom)
            boxes, scores, ids = self._detect_once(view, size, chosen, part, cancel)
            found.append((flip_average.unflip_boxes(boxes, width, height, left_right,
                                                    top_bottom), scores, ids))
        boxes, scores, ids = found[0] if len(found) == 1 else flip_average.average_runs(found)
        boxes = boxes + np.array([frame.left, frame.top, frame.left, frame.top], boxes.dtype)
        return detections_from_arrays(boxes, ids, scores)

    def _detect_once(self, image, size, chosen, progress, cancel):
        """One pass in mode ``chosen``: boxes clipped to the image and merged, best first."""
        height, width = image.shape
        try:
            if chosen == "whole":
                boxes, scores, ids = self._detect_whole(image, size, progress, cancel)
            else:
                boxes, scores, ids = self._detect_tiled(image, size, progress, cancel)
        except MemoryError:
            raise MicrographError(f"not enough memory to analyse a {width}x{height} px "
                                  f"micrograph at {size:.3g} nm/px") from None
        boxes = box_math.clip_boxes(boxes, width, height)
        real = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores, ids = boxes[real], scores[real], ids[real]
        keep = tiling.merge_windows(boxes, scores, ids, tiling.MERGE_IOU)
        return boxes[keep], scores[keep], ids[keep]

    def _detect_tiled(self, image, pixel_size_nm, progress, cancel):
        cfg = self.config
        height, width = image.shape
        side, _, windows = self.window_plan(width, height, pixel_size_nm=pixel_size_nm)
        batches = [windows[i:i + cfg.batch_size] for i in range(0, len(windows), cfg.batch_size)]
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        fill = tiling.pad_value(image)
        for b, batch in enumerate(batches):
            check_cancel(cancel)
            crops = tiling.extract_windows(image, batch, cfg.net_input, fill)
            if len(batch) < cfg.batch_size:  # keep the batch shape fixed
                pad = np.zeros((cfg.batch_size - len(batch), *crops.shape[1:]), np.uint8)
                crops = np.concatenate([crops, pad], axis=0)
            boxes, scores, ids, valid = self._run(crops)
            for i, window in enumerate(batch):
                n = int(valid[i])
                parts.append((tiling.to_micrograph(boxes[i, :n], window, cfg.net_input),
                              scores[i, :n], ids[i, :n]))
            progress((b + 1) / len(batches), f"window batch {b + 1} of {len(batches)}")
        return _concat(parts)

    def _detect_whole(self, image, pixel_size_nm, progress, cancel):
        cfg = self.config
        check_cancel(cancel)
        factor = tiling.whole_image_scale(_reference_magnification(pixel_size_nm), cfg.window,
                                          cfg.net_input, cfg.train_magnification)
        resized, fx, fy = tiling.rescale_image(image, factor)
        boxes, scores, ids, valid = self._run(resized[None])
        n = int(valid[0])
        out = boxes[0, :n].astype(np.float64) / np.array([fx, fy, fx, fy])
        progress(1.0, "whole micrograph")
        return out, scores[0, :n], ids[0, :n]

    def probe_scales(self, image: np.ndarray, pixel_size_nm: float,
                     cancel: Optional[CancelToken] = None):
        """Confidence at other scales (:func:`temnet_app.detector.scale_probe.probe_scales`),
        for :func:`temnet_app.core.scale_check.judge_scale`."""
        from temnet_app.detector.scale_probe import probe_scales

        return probe_scales(self, _check_image(image), pixel_size_nm, cancel=cancel)

    def detect_many(self, items: Iterable[tuple[np.ndarray, float]],
                    progress: Optional[ProgressFn] = None,
                    cancel: Optional[CancelToken] = None,
                    mode: Optional[str] = None) -> list[list[Detection]]:
        """:meth:`detect` over ``(image, magnification)`` pairs; progress spans them all."""
        items = list(items)
        results = []
        for i, (image, magnification) in enumerate(items):
            sub = scaled(progress, i / len(items), (i + 1) / len(items))
            results.append(self.detect(image, magnification, sub, cancel, mode))
        return results


def _scale(magnification: Optional[float], pixel_size_nm: Optional[float]) -> float:
    """The pixel size (nm) to work at: ``pixel_size_nm``, else ``magnification`` at the
    reference calibration, else the reference 0.561 nm/px; MicrographError if implausible."""
    try:
        if pixel_size_nm is not None:
            return check_pixel_size(pixel_size_nm)
        if magnification is not None:
            return units.nm_per_pixel(units.check_magnification(magnification))
    except (TypeError, ValueError) as error:
        raise MicrographError(str(error)) from None
    return units.NM_PER_PIXEL_AT_DEFAULT


def _reference_magnification(pixel_size_nm: float) -> float:
    """The magnification giving ``pixel_size_nm`` at the reference calibration: the unit of
    the model's ``train_magnification`` and of :mod:`.tiling`'s eq. 6."""
    return units.magnification_from_pixel_size(pixel_size_nm)


def _concat(parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    if not parts:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64)
    boxes = np.concatenate([p[0] for p in parts]).reshape(-1, 4).astype(np.float64)
    scores = np.concatenate([p[1] for p in parts]).astype(np.float64)
    ids = np.concatenate([p[2] for p in parts]).astype(np.int64)
    return boxes, scores, ids
