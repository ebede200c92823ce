"""Box and Detection records, and box counts per class.

One box format inside the program: ``xyxy`` float pixels in full-micrograph coordinates
(x to the right, y down, ``x1 < x2``, ``y1 < y2``). Conversions to VIA (x, y, width, height)
or COCO happen only in :mod:`temnet_app.core.annotations.via`.

Class ids are those of a :class:`~temnet_app.core.classes.ClassScheme` (0 is background);
the scheme's names are re-exported here for the modules that import them with the boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from temnet_app.core.classes import (DEFAULT_CLASS_COLOURS, DEFAULT_CLASS_NAMES,  # noqa: F401
                                     DEFAULT_SCHEME, ClassScheme)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in full-micrograph pixel coordinates with a class id (>= 1)."""

    x1: float
    y1: float
    x2: float
    y2: float
    class_id: int

    def __post_init__(self) -> None:
        coords = (self.x1, self.y1, self.x2, self.y2)
        if not all(np.isfinite(c) for c in coords):
            raise ValueError(f"box coordinates must be finite: {coords}")
        if not (self.x2 > self.x1 and self.y2 > self.y1):
            raise ValueError(f"box must have x2 > x1 and y2 > y1: {coords}")
        if int(self.class_id) < 1:
            raise ValueError(f"class id must be >= 1 (0 is background): {self.class_id}")
        for name, value in zip(("x1", "y1", "x2", "y2"), coords):
            object.__setattr__(self, name, float(value))
        object.__setattr__(self, "class_id", int(self.class_id))

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)

    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def shifted(self, dx: float, dy: float) -> "Box":
        return type(self)(**{**self._fields(), "x1": self.x1 + dx, "y1": self.y1 + dy,
                             "x2": self.x2 + dx, "y2": self.y2 + dy})

    def scaled(self, factor: float) -> "Box":
        return type(self)(**{**self._fields(), "x1": self.x1 * factor, "y1": self.y1 * factor,
                             "x2": self.x2 * factor, "y2": self.y2 * factor})

    def _fields(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Detection(Box):
    """A detector output: a box, its class id and a confidence score in [0, 1]."""

    score: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= float(self.score) <= 1.0:
            raise ValueError(f"score must be in [0, 1]: {self.score}")
        object.__setattr__(self, "score", float(self.score))


def boxes_to_arrays(boxes: Sequence[Box]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xyxy (N, 4) float64, class_ids (N,) int64, scores (N,) float64)``; plain Boxes score 1."""
    xyxy = np.array([b.xyxy() for b in boxes], dtype=np.float64).reshape(-1, 4)
    ids = np.array([b.class_id for b in boxes], dtype=np.int64)
    scores = np.array([getattr(b, "score", 1.0) for b in boxes], dtype=np.float64)
    return xyxy, ids, scores


def detections_from_arrays(xyxy: np.ndarray, class_ids: Iterable[int],
                           scores: Iterable[float]) -> list[Detection]:
    """Inverse of :func:`boxes_to_arrays` for detections; degenerate boxes are dropped."""
    out = []
    for (x1, y1, x2, y2), c, s in zip(np.asarray(xyxy, dtype=np.float64).reshape(-1, 4),
                                       class_ids, scores):
        if x2 > x1 and y2 > y1:
            out.append(Detection(x1, y1, x2, y2, int(c), float(min(1.0, max(0.0, s)))))
    return out


def boxes_from_arrays(xyxy: np.ndarray, class_ids: Iterable[int]) -> list[Box]:
    return [Box(*map(float, row), int(c))
            for row, c in zip(np.asarray(xyxy, dtype=np.float64).reshape(-1, 4), class_ids)]


def filter_by_score(detections: Iterable[Detection], threshold: float) -> list[Detection]:
    """Detections with ``score >= threshold`` (the GUI slider and the reports use this)."""
    return [d for d in detections if d.score >= threshold]


def count_by_class(boxes: Iterable[Box], scheme: ClassScheme = DEFAULT_SCHEME) -> dict[str, int]:
    """Counts per class name, every class of ``scheme`` present (zero when absent)."""
    counts = {name: 0 for name in scheme.names}
    for b in boxes:
        counts[scheme.name(b.class_id)] += 1
    return counts
