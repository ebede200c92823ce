"""Try a micrograph at other scales: the detector side of :mod:`temnet_app.core.scale_check`.

Each trial runs tiled detection at ``factor`` times the stated magnification on a centred crop
holding at most ``max_windows`` tiled windows at that scale, so a trial costs about as much
as detecting on ``max_windows`` windows (~30 ms each on 2 CPU cores) whatever the micrograph
size: ~10 trials of 16 windows take a few seconds.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from temnet_app.core.errors import MicrographError
from temnet_app.core.progress import CancelToken, check_cancel
from temnet_app.core.scale_check import PROBE_FACTORS, ScaleTrial, trial


def _centre_crop(image: np.ndarray, side: int, overlap: int, per_axis: int) -> np.ndarray:
    step = max(1, side - overlap)
    span = side + (per_axis - 1) * step
    height, width = image.shape
    h, w = min(height, span), min(width, span)
    y0, x0 = (height - h) // 2, (width - w) // 2
    return image[y0:y0 + h, x0:x0 + w]


def probe_scales(detector, image: np.ndarray, pixel_size_nm: float,
                 factors: Sequence[float] = PROBE_FACTORS, max_windows: int = 16,
                 cancel: Optional[CancelToken] = None) -> list[ScaleTrial]:
    """One :class:`ScaleTrial` per factor (magnification x factor, pixel size / factor)."""
    per_axis = max(1, int(math.isqrt(max_windows)))
    trials = []
    for factor in factors:
        check_cancel(cancel)
        size = pixel_size_nm / factor
        try:
            side, overlap = detector.window_geometry(pixel_size_nm=size)
            crop = _centre_crop(image, side, overlap, per_axis)
            if min(crop.shape) < 2 or side < 8:
                continue
            detections = detector.detect(crop, pixel_size_nm=size, mode="tiled",
                                         cancel=cancel, flips=False)
        except MicrographError:     # a pixel size outside the plausible range
            continue
        trials.append(trial(factor, [d.score for d in detections]))
    return trials
