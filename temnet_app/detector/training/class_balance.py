"""Class-balanced training: weights for the head's classification loss (numpy only).

Crops of pelleted virions hold ~10-20 labels of every class at once, so sampling crops by
class cannot balance the classes; the rarer classes are weighted in the loss instead. A class
seen in a fraction ``f_c`` of the labels in the training crops gets a weight proportional to
``1 / sqrt(f_c)`` (the square root keeps a rare class from dominating), scaled so that the
label-weighted mean of the foreground weights is 1, which keeps the balance between virions
and background as it was. Background weighs 1; a class with no label weighs 1.

Example: labels 37.5% eccentric, 49.6% mature, 12.9% immature (the TEMNet dataset) give
weights 0.97, 0.85 and 1.66.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["label_counts", "balanced_weights"]


def label_counts(plans: Sequence[Sequence], num_classes: int) -> np.ndarray:
    """Labels per class id 1..``num_classes`` over the crops of ``plans`` (one list of
    :class:`~temnet_app.detector.data.crops.CropPlan` per micrograph), as a (K,) array."""
    counts = np.zeros(num_classes, dtype=np.int64)
    for crops in plans:
        for crop in crops:
            ids = np.asarray(crop.class_ids, dtype=np.int64)
            ids = ids[(ids >= 1) & (ids <= num_classes)]
            counts += np.bincount(ids - 1, minlength=num_classes)
    return counts


def balanced_weights(counts: Sequence[int]) -> tuple[float, ...]:
    """Loss weights ``(background, class 1, ..., class K)`` for the label ``counts`` of
    classes 1..K (see the module docstring)."""
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 1 or len(n) == 0 or np.any(n < 0):
        raise ValueError(f"counts must be a non-empty list of non-negative numbers, got {counts!r}")
    seen = n > 0
    weights = np.ones_like(n)
    if seen.any():
        raw = 1.0 / np.sqrt(n[seen] / n.sum())
        weights[seen] = raw * n[seen].sum() / float(np.sum(n[seen] * raw))
    return (1.0, *(float(w) for w in weights))
