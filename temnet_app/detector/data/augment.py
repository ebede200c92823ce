"""On-the-fly augmentation of training crops in TensorFlow (graph-friendly, stateless random).

Every random choice is drawn with ``tf.random.stateless_*`` from a per-crop int64 seed that the
dataset draws from its own seeded generator, so a run is reproducible and independent of how
many threads map the data.

Geometry (each applied with probability 1/2, boxes transformed with the pixels):

* horizontal flip, vertical flip and 180-degree rotation (the paper's three);
* transpose (reflection about the main diagonal). Composed with the flips it gives 90-degree
  rotations, so all eight orientations of the square occur. Sections of pelleted virions have
  no preferred orientation; the paper did not use it (set ``transpose=False`` to match it).

Photometric (values are 0-255 grey levels of the network input, i.e. after the crop was
resized to 512 px):

* Gaussian noise, with probability ``noise_probability``, sd drawn uniformly from ``noise_sd``
  (default 0-6 grey levels). The paper's sd 1 on 8-bit values is below what one can see; the
  grain of a real 30,000x micrograph is several grey levels, so 0-6 spans cleaner to noisier
  cameras / lower doses while staying well below the contrast of a membrane (tens of levels).
* brightness / contrast jitter, with probability ``jitter_probability``: grey values are
  stretched about the crop mean by a factor drawn log-uniformly from ``contrast`` (0.8-1.25)
  and shifted by up to +-``brightness`` (12) levels. Staining and exposure differ between labs
  and sessions (mean grey 130-160, sd 30-50 in the material at hand); the network should not
  rely on absolute grey levels.

Optional (:data:`APPEARANCE`, ``temnet train --appearance-augment``; off by default):

* gamma, with probability ``gamma_probability``: ``255 (v / 255) ** g`` with ``g`` drawn
  log-uniformly from ``gamma`` (0.7-1.4): films, cameras and exports map dose to grey levels
  by different curves, which a linear stretch cannot mimic;
* defocus blur, with probability ``blur_probability``: a Gaussian of sd drawn uniformly from
  ``blur_sigma`` (0.5-2.0 network pixels, i.e. 1-4 nm at 30,000x): real micrographs are
  softer than the simulator's, and a lab's focus varies from session to session.

* scale jitter (:func:`zoom`, applied by the pipeline before the rest), with probability
  ``scale_probability`` (0.5 in :data:`SCALE`, ``temnet train --scale-augment``): the crop is
  resized by a factor drawn log-uniformly from ``scale`` (0.75-1.33) about a random point, cut
  back to its side or padded with its mean grey, boxes moved with it; a box left less than 75%
  inside is dropped (its pixels stay, as the crops' 75% rule does). Virion sizes vary between
  samples and a stated magnification can be off by a calibration error.

The result is clipped to [0, 255]. Padding rows of the boxes (class id 0) stay all zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf

__all__ = ["AugmentSettings", "APPEARANCE", "SCALE", "NO_AUGMENTATION", "augment", "zoom",
           "flip_horizontal", "flip_vertical", "transpose", "gaussian_noise", "gaussian_blur"]

# Indices of the per-crop random streams (each op gets its own).
_S_TRANSPOSE, _S_HFLIP, _S_VFLIP, _S_ROT, _S_NOISE_ON, _S_NOISE_SD, _S_NOISE = range(7)
_S_JIT_ON, _S_CONTRAST, _S_BRIGHT = 7, 8, 9
_S_GAMMA_ON, _S_GAMMA, _S_BLUR_ON, _S_BLUR = 10, 11, 12, 13
_S_ZOOM_ON, _S_ZOOM, _S_ZOOM_X, _S_ZOOM_Y = 14, 15, 16, 17
_BLUR_RADIUS = 5  # kernel taps each side: covers 2.5 sd of the widest blur


@dataclass(frozen=True)
class AugmentSettings:
    """What :func:`augment` may do (see the module docstring for the reasons)."""

    horizontal_flip: bool = True
    vertical_flip: bool = True
    rotate_180: bool = True
    transpose: bool = True
    noise_probability: float = 0.5
    noise_sd: tuple[float, float] = (0.0, 6.0)
    jitter_probability: float = 0.5
    brightness: float = 12.0
    contrast: tuple[float, float] = (0.8, 1.25)
    gamma_probability: float = 0.0      # 0.5 in APPEARANCE (temnet train --appearance-augment)
    gamma: tuple[float, float] = (0.7, 1.4)
    blur_probability: float = 0.0       # 0.3 in APPEARANCE
    blur_sigma: tuple[float, float] = (0.5, 2.0)
    scale_probability: float = 0.0      # 0.5 in SCALE (temnet train --scale-augment)
    scale: tuple[float, float] = (0.75, 4.0 / 3.0)

    def __post_init__(self) -> None:
        for name in ("gamma", "blur_sigma", "scale"):
            lo, hi = getattr(self, name)
            if not 0.0 < lo <= hi or (name == "blur_sigma" and hi > _BLUR_RADIUS / 2.5):
                raise ValueError(f"{name} must be 0 < low <= high (blur sd <= "
                                 f"{_BLUR_RADIUS / 2.5:g}), got {getattr(self, name)!r}")
        for name in ("noise_probability", "jitter_probability", "gamma_probability",
                     "blur_probability", "scale_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        lo, hi = self.noise_sd
        if not 0.0 <= lo <= hi:
            raise ValueError(f"noise_sd must be 0 <= low <= high, got {self.noise_sd!r}")
        lo, hi = self.contrast
        if not 0.0 < lo <= hi:
            raise ValueError(f"contrast must be 0 < low <= high, got {self.contrast!r}")
        if not self.brightness >= 0.0:
            raise ValueError(f"brightness must be >= 0, got {self.brightness!r}")

    def to_dict(self) -> dict:
        return {"horizontal_flip": self.horizontal_flip, "vertical_flip": self.vertical_flip,
                "rotate_180": self.rotate_180, "transpose": self.transpose,
                "noise_probability": self.noise_probability, "noise_sd": list(self.noise_sd),
                "jitter_probability": self.jitter_probability, "brightness": self.brightness,
                "contrast": list(self.contrast), "gamma_probability": self.gamma_probability,
                "gamma": list(self.gamma), "blur_probability": self.blur_probability,
                "blur_sigma": list(self.blur_sigma), "scale_probability": self.scale_probability,
                "scale": list(self.scale)}


# Gamma and defocus blur on top of the defaults. Measured on the real-style benchmark
# (benchmarks/real_style_training.py, 30 min on one core) they did not raise the validation
# mAP (94.6 vs 95.4 from scratch), so they are an option, not the default.
APPEARANCE = AugmentSettings(gamma_probability=0.5, blur_probability=0.3)
SCALE = AugmentSettings(scale_probability=0.5)
NO_AUGMENTATION = AugmentSettings(False, False, False, False, 0.0, (0.0, 0.0), 0.0, 0.0,
                                  (1.0, 1.0), 0.0, (1.0, 1.0), 0.0, (1.0, 1.0))


# ---------------------------------------------------------------------- deterministic pieces
def flip_horizontal(image: tf.Tensor, boxes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Mirror left-right: ``x -> W - x`` (``image`` is (H, W) or (H, W, C); boxes xyxy)."""
    width = tf.cast(tf.shape(image)[1], boxes.dtype)
    x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
    return tf.reverse(image, [1]), tf.stack([width - x2, y1, width - x1, y2], axis=-1)


def flip_vertical(image: tf.Tensor, boxes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Mirror top-bottom: ``y -> H - y``."""
    height = tf.cast(tf.shape(image)[0], boxes.dtype)
    x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
    return tf.reverse(image, [0]), tf.stack([x1, height - y2, x2, height - y1], axis=-1)


def transpose(image: tf.Tensor, boxes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Reflect about the main diagonal: pixel (row r, column c) moves to (c, r), ``x <-> y``."""
    perm = [1, 0] if image.shape.rank == 2 else [1, 0, 2]
    x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
    return tf.transpose(image, perm), tf.stack([y1, x1, y2, x2], axis=-1)


def _rotate_180(image: tf.Tensor, boxes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    return flip_vertical(*flip_horizontal(image, boxes))


# -------------------------------------------------------------------------------- random part
def gaussian_noise(shape, seed: tf.Tensor) -> tf.Tensor:
    """Standard normal values of ``shape`` (float32) from a stateless seed, by the Box-Muller
    transform of stateless uniforms (about 3x faster on CPU than ``stateless_normal`` for a
    512 x 512 crop; uniforms are kept above 1e-7, which caps values at 5.7 sd)."""
    n = tf.reduce_prod(shape)
    half = (n + 1) // 2
    u = tf.random.stateless_uniform(tf.stack([2, half]), seed, minval=1e-7, maxval=1.0)
    radius = tf.sqrt(-2.0 * tf.math.log(u[0]))
    angle = (2.0 * math.pi) * u[1]
    values = tf.concat([radius * tf.cos(angle), radius * tf.sin(angle)], axis=0)
    return tf.reshape(values[:n], shape)


def gaussian_blur(image: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """``image`` (H, W) or (H, W, C) float32 blurred by a separable Gaussian of sd ``sigma``
    pixels (a scalar tensor; edges reflect, so the border keeps its grey level)."""
    taps = tf.range(-_BLUR_RADIUS, _BLUR_RADIUS + 1, dtype=tf.float32)
    kernel = tf.exp(-0.5 * tf.square(taps / tf.maximum(sigma, 1e-3)))
    kernel = kernel / tf.reduce_sum(kernel)
    x = image if image.shape.rank == 3 else image[..., None]
    x = tf.transpose(x, [2, 0, 1])[..., None]  # channels as the batch: (C, H, W, 1)
    x = tf.pad(x, [[0, 0], [_BLUR_RADIUS, _BLUR_RADIUS], [_BLUR_RADIUS, _BLUR_RADIUS], [0, 0]],
               mode="REFLECT")
    x = tf.nn.conv2d(x, tf.reshape(kernel, [1, -1, 1, 1]), 1, "VALID")
    x = tf.nn.conv2d(x, tf.reshape(kernel, [-1, 1, 1, 1]), 1, "VALID")
    x = tf.transpose(x[..., 0], [1, 2, 0])
    return x if image.shape.rank == 3 else x[..., 0]


def _seed(seed: tf.Tensor, stream: int) -> tf.Tensor:
    return tf.stack([tf.cast(seed, tf.int64), tf.constant(stream, tf.int64)])


def _uniform(seed: tf.Tensor, stream: int, low: float = 0.0, high: float = 1.0) -> tf.Tensor:
    return tf.random.stateless_uniform([], _seed(seed, stream), minval=low, maxval=high)


def _maybe(enabled: bool, probability: float, seed, stream: int, fn, image, boxes):
    if not enabled or probability <= 0.0:
        return image, boxes
    return tf.cond(_uniform(seed, stream) < probability, lambda: fn(image, boxes),
                   lambda: (image, boxes))


def zoom(image: tf.Tensor, boxes: tf.Tensor, class_ids: tf.Tensor, seed: tf.Tensor,
         settings: AugmentSettings, min_inside: float = 0.75
         ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Scale jitter of one square crop (see the module docstring): returns ``(image (S, S)
    float32, boxes, class_ids)``; with probability ``1 - settings.scale_probability`` the
    input unchanged (as float32). Dropped boxes become padding rows (zero, class 0). With
    ``scale_probability`` 0 the inputs are returned as they are (uint8 stays uint8)."""
    if settings.scale_probability <= 0.0:
        return image, boxes, class_ids
    image = tf.cast(tf.convert_to_tensor(image), tf.float32)
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    class_ids = tf.convert_to_tensor(class_ids)
    side = int(image.shape[0])
    lo, hi = settings.scale

    def zoomed():
        factor = tf.exp(_uniform(seed, _S_ZOOM, math.log(lo), math.log(hi) + 1e-12))
        n = tf.maximum(1, tf.cast(tf.round(side * factor), tf.int32))
        resized = tf.image.resize(image[..., None], tf.stack([n, n]), antialias=True)[..., 0]
        pad, cut = tf.maximum(side - n, 0), tf.maximum(n - side, 0)

        def offset(stream: int, total: tf.Tensor) -> tf.Tensor:
            return tf.random.stateless_uniform([], _seed(seed, stream), minval=0,
                                               maxval=total + 1, dtype=tf.int32)

        # zoom out: the resized crop lands at (px, py) on a mean-grey square; zoom in: the
        # square is cut at (cx, cy) out of the resized crop (one of pad / cut is zero)
        px, py = offset(_S_ZOOM_X, pad), offset(_S_ZOOM_Y, pad)
        cx, cy = offset(_S_ZOOM_X, cut), offset(_S_ZOOM_Y, cut)
        padded = tf.pad(resized, tf.stack([[py, pad - py], [px, pad - px]]),
                        constant_values=tf.reduce_mean(image))
        out = tf.reshape(padded[cy:cy + side, cx:cx + side], [side, side])
        scale = tf.cast(n, tf.float32) / side
        shift = tf.cast(tf.stack([px - cx, py - cy, px - cx, py - cy]), tf.float32)
        moved = boxes * scale + shift
        clipped = tf.clip_by_value(moved, 0.0, float(side))

        def area(b):
            return tf.maximum(b[:, 2] - b[:, 0], 0.0) * tf.maximum(b[:, 3] - b[:, 1], 0.0)

        inside = area(clipped) / tf.maximum(area(moved), 1e-6)
        keep = tf.logical_and(class_ids > 0, inside >= min_inside)
        return (out, tf.where(keep[:, None], clipped, tf.zeros_like(clipped)),
                tf.where(keep, class_ids, tf.zeros_like(class_ids)))

    return tf.cond(_uniform(seed, _S_ZOOM_ON) < settings.scale_probability, zoomed,
                   lambda: (image, boxes, class_ids))


def augment(image: tf.Tensor, boxes: tf.Tensor, class_ids: tf.Tensor, seed: tf.Tensor,
            settings: AugmentSettings = AugmentSettings()) -> tuple[tf.Tensor, tf.Tensor]:
    """Augment one crop: ``image`` (S, S) or (S, S, C) 0-255 (uint8 or float), ``boxes``
    (G, 4) float32 xyxy network pixels, ``class_ids`` (G,) with 0 = padding, ``seed`` an
    int64 scalar. Returns the new ``(image (float32), boxes)``; padding boxes stay zero."""
    s = settings
    image = tf.convert_to_tensor(image)  # geometry runs on the stored dtype (uint8 is cheapest)
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    valid = tf.convert_to_tensor(class_ids) > 0
    image, boxes = _maybe(s.transpose, 0.5, seed, _S_TRANSPOSE, transpose, image, boxes)
    image, boxes = _maybe(s.horizontal_flip, 0.5, seed, _S_HFLIP, flip_horizontal, image, boxes)
    image, boxes = _maybe(s.vertical_flip, 0.5, seed, _S_VFLIP, flip_vertical, image, boxes)
    image, boxes = _maybe(s.rotate_180, 0.5, seed, _S_ROT, _rotate_180, image, boxes)
    image = tf.cast(image, tf.float32)
    if s.jitter_probability > 0.0:
        factor = tf.exp(_uniform(seed, _S_CONTRAST, math.log(s.contrast[0]),
                                 math.log(s.contrast[1]) + 1e-12))
        shift = _uniform(seed, _S_BRIGHT, -s.brightness, s.brightness + 1e-12)
        mean = tf.reduce_mean(image)
        jittered = (image - mean) * factor + mean + shift
        on = _uniform(seed, _S_JIT_ON) < s.jitter_probability
        image = tf.where(on, jittered, image)
    if s.gamma_probability > 0.0:
        g = tf.exp(_uniform(seed, _S_GAMMA, math.log(s.gamma[0]), math.log(s.gamma[1]) + 1e-12))
        on = _uniform(seed, _S_GAMMA_ON) < s.gamma_probability
        curved = 255.0 * tf.pow(tf.clip_by_value(image, 0.0, 255.0) / 255.0, g)
        image = tf.where(on, curved, image)
    if s.blur_probability > 0.0:
        sigma = _uniform(seed, _S_BLUR, s.blur_sigma[0], s.blur_sigma[1] + 1e-12)
        on = _uniform(seed, _S_BLUR_ON) < s.blur_probability
        image = tf.cond(on, lambda: gaussian_blur(image, sigma), lambda: image)
    if s.noise_probability > 0.0 and s.noise_sd[1] > 0.0:
        sd = _uniform(seed, _S_NOISE_SD, s.noise_sd[0], s.noise_sd[1] + 1e-12)
        on = _uniform(seed, _S_NOISE_ON) < s.noise_probability
        image = tf.cond(on, lambda: image + sd * gaussian_noise(tf.shape(image),
                                                                _seed(seed, _S_NOISE)),
                        lambda: image)
    image = tf.clip_by_value(image, 0.0, 255.0)
    boxes = tf.where(valid[:, None], boxes, tf.zeros_like(boxes))
    return image, boxes
