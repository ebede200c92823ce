"""Specimen background, illumination and the camera for the simulator.

Everything here works on the camera grid (``binning`` image pixels per camera pixel), so the
whole-image operations stay cheap. Length scales are given in nm and converted with the camera
pixel size, so textures keep their physical size at every magnification.

Camera model: transmitted intensity ``illumination * exp(-density)`` -> Gaussian point-spread
(defocus blur) -> shot noise (Gaussian approximation of Poisson counts at ``dose`` electrons per
camera pixel of open beam) -> linear 8-bit grey scale with read noise -> linear upsampling to the
image grid (the AMT 2k CCD image standardised to 4,000 px wide is an upsampled camera frame).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from scipy import ndimage


def resize_linear(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D array to ``shape`` by separable linear interpolation (pixel centres aligned,
    edges replicated)."""
    pos = [(np.arange(n, dtype=np.float64) + 0.5) * (m / n) - 0.5
           for n, m in zip(shape, field.shape)]
    return _interpolate(field, pos[0], pos[1])


def _interpolate(field: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample ``field`` at fractional row / column positions (separable linear, clamped)."""
    out = field
    for axis, pos in enumerate((rows, cols)):
        n_in = out.shape[axis]
        pos = np.clip(pos, 0.0, n_in - 1.0)
        i0 = np.floor(pos).astype(np.intp)
        i1 = np.minimum(i0 + 1, n_in - 1)
        w = (pos - i0).astype(np.float32)
        w = w[:, None] if axis == 0 else w[None, :]
        a, b = np.take(out, i0, axis=axis), np.take(out, i1, axis=axis)
        out = a + (b - a) * w
    return out.astype(np.float32, copy=False)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], corr_px: float
                 ) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian random field with correlation length ~``corr_px``.

    Long correlations are generated on a coarser grid and interpolated up (cheap).
    """
    step = _step(corr_px)
    return _expand(_grid_noise(rng, shape, step, corr_px), step, shape)


def _step(corr_px: float) -> int:
    """Grid step for a field of correlation ``corr_px``: coarse enough to keep the Gaussian
    kernel short, fine enough for linear interpolation to be smooth."""
    return max(1, int(corr_px / 2.5))


def _grid_noise(rng: np.random.Generator, shape: tuple[int, int], step: int, corr_px: float
                ) -> np.ndarray:
    """Unit-variance smooth noise on a grid ``step`` times coarser than ``shape`` (+2 margin)."""
    small = (-(-shape[0] // step) + 2, -(-shape[1] // step) + 2)
    field = rng.standard_normal(small, dtype=np.float32)
    field = ndimage.gaussian_filter(field, max(corr_px / step, 0.3), mode="wrap")
    field -= np.float32(field.mean())
    std = float(field[::2, ::2].std()) if field.size > 4096 else float(field.std())
    return field / np.float32(std if std > 0 else 1.0)


def _expand(field: np.ndarray, step: int, shape: tuple[int, int]) -> np.ndarray:
    """Interpolate a :func:`_grid_noise` grid (cell ``k`` centred on fine pixel
    ``(k - 1) * step + step / 2``) up to ``shape``."""
    if step == 1:
        return field[:shape[0], :shape[1]]
    rows, cols = ((np.arange(n, dtype=np.float64) + 0.5) / step + 0.5 for n in shape)
    return _interpolate(field, rows, cols)


def specimen_background(rng: np.random.Generator, shape: tuple[int, int], camera_nm: float,
                        debris: float = 1.0
                        ) -> tuple[np.ndarray, Optional[np.ndarray], np.ndarray]:
    """``(density, debris, grain)`` on the camera grid: the optical density of the stained
    Epon everywhere (a ~1.6 nm grain and a softer ~5 nm mottle), that of fuzzy, granular flocs
    of cell debris (~20-100 nm) in clouds covering roughly half of the field at ``debris=1``
    (None when ``debris`` is 0; particles displace it), and the stain-grain texture (zero mean,
    unit variance) that also modulates particle interiors.
    """
    fine = smooth_noise(rng, shape, 1.6 / camera_nm)
    mottle = smooth_noise(rng, shape, 5.0 / camera_nm)
    density = 0.04 + 0.09 * np.maximum(fine, -1.8) + 0.035 * mottle
    grain = np.clip(0.5 * fine + 0.85 * mottle, -2.0, 2.5)
    flocs_density = None
    if debris > 0:
        amount = min(debris, 2.0)
        step = _step(40.0 / camera_nm)
        clouds = _grid_noise(rng, shape, step, 250.0 / camera_nm)
        patchy = _grid_noise(rng, shape, step, 45.0 / camera_nm)
        threshold = 0.0 - 0.6 * amount
        mask = _expand(np.clip((0.6 * clouds + patchy - threshold) / 0.45, 0.0, 1.0), step,
                       shape)
        flocs = np.maximum(smooth_noise(rng, shape, 40.0 / camera_nm) + 0.5, 0.0)
        raw = mask * (0.05 + 0.2 * flocs * np.maximum(1.0 + 0.6 * mottle, 0.0)) \
            * np.float32(amount ** 0.5)
        flocs_density = (raw / (1.0 + raw / 0.6)).astype(np.float32, copy=False)  # soft cap
    return (density.astype(np.float32, copy=False), flocs_density,
            grain.astype(np.float32, copy=False))


def illumination(rng: np.random.Generator, shape: tuple[int, int], camera_nm: float,
                 strength: float = 1.0) -> np.ndarray:
    """Relative beam intensity (mean ~1): a tilted plane, an off-centre falloff and a faint
    low-frequency unevenness; ``strength=0`` gives a flat beam. Built on a coarse grid."""
    if strength <= 0:
        return np.ones(shape, dtype=np.float32)
    step = max(1, min(shape) // 40)
    unevenness = _grid_noise(rng, shape, step, 600.0 / camera_nm)
    h, w = unevenness.shape
    y = ((np.arange(h, dtype=np.float32) - 1.5) * step / shape[0] * 2 - 1)[:, None]
    x = ((np.arange(w, dtype=np.float32) - 1.5) * step / shape[1] * 2 - 1)[None, :]
    angle = rng.uniform(0, 2 * math.pi)
    tilt = rng.uniform(0.02, 0.08) * strength
    cx, cy = rng.uniform(-0.6, 0.6, 2)
    fall = rng.uniform(0.0, 0.07) * strength
    beam = (1.0 + tilt * (math.cos(angle) * x + math.sin(angle) * y)
            - fall * ((x - cx) ** 2 + (y - cy) ** 2) / 2.0 + 0.015 * strength * unevenness)
    beam = _expand(beam.astype(np.float32), step, shape)
    return (beam / np.float32(beam.mean())).astype(np.float32, copy=False)


def expose(density: np.ndarray, beam: np.ndarray, rng: np.random.Generator, *,
           blur_px: float, dose: float, noise: bool) -> np.ndarray:
    """Relative recorded intensity (1 = open beam) on the camera grid, blurred and noisy."""
    signal = beam * np.exp(-density)
    if blur_px > 0:
        signal = ndimage.gaussian_filter(signal, blur_px)
    if noise and dose > 0:
        signal = signal + np.sqrt(np.maximum(signal, 0.0) / np.float32(dose)) * \
            rng.standard_normal(signal.shape, dtype=np.float32)
    return signal.astype(np.float32, copy=False)


def to_grey(signal: np.ndarray, rng: np.random.Generator, *, background: float, black: float,
            read_noise: float, noise: bool) -> np.ndarray:
    """Map relative intensity to 8-bit grey (uint8, camera grid): 1 -> ``background``,
    0 -> ``black``, plus Gaussian read noise of ``read_noise`` grey levels."""
    grey = np.float32(black) + np.float32(background - black) * signal
    if noise and read_noise > 0:
        grey += np.float32(read_noise) * rng.standard_normal(grey.shape, dtype=np.float32)
    return np.clip(grey + 0.5, 0, 255).astype(np.uint8)


def upsample_grey(camera: np.ndarray, binning: int, shape: tuple[int, int]) -> np.ndarray:
    """Camera-grid uint8 image -> image grid ``shape`` by linear interpolation.

    Binning 2 uses an exact integer 3:1 interpolation (fast); binning 1 is a crop.
    """
    h, w = shape
    if binning == 1:
        return np.ascontiguousarray(camera[:h, :w])
    if binning != 2:
        return np.clip(resize_linear(camera.astype(np.float32),
                                     (camera.shape[0] * binning, camera.shape[1] * binning))
                       + 0.5, 0, 255).astype(np.uint8)[:h, :w]
    c = camera.astype(np.uint16)
    rows = np.empty((2 * c.shape[0], c.shape[1]), dtype=np.uint16)
    prev = np.concatenate([c[:1], c[:-1]], axis=0)
    nxt = np.concatenate([c[1:], c[-1:]], axis=0)
    rows[0::2] = 3 * c + prev
    rows[1::2] = 3 * c + nxt
    out = np.empty((rows.shape[0], 2 * c.shape[1]), dtype=np.uint16)
    prev = np.concatenate([rows[:, :1], rows[:, :-1]], axis=1)
    nxt = np.concatenate([rows[:, 1:], rows[:, -1:]], axis=1)
    out[:, 0::2] = 3 * rows + prev
    out[:, 1::2] = 3 * rows + nxt
    out += 8
    out >>= 4
    return np.ascontiguousarray(out[:h, :w].astype(np.uint8))
