"""Where things go in a simulated micrograph: counts, sizes and non-overlapping placement.

Virions are placed one by one, about half of them against an already placed virion (crowded,
touching groups as in pellets), the rest uniformly. Two virions may overlap by at most
``VIRION_OVERLAP`` of the smaller radius (envelopes touching or slightly pressed together,
never one deep inside another). Virions cut by the image edge are kept when at least
``MIN_VISIBLE`` of their box is inside; their label is the box clipped to the image. When a
virion finds no room the field is full and placement stops, so the class mix stays unbiased
(fewer virions than asked for at very high densities).
Distractors fill the remaining space with looser overlap rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np

from temnet_app.core.boxes import Box
from temnet_app.core.units import DEFAULT_MAGNIFICATION
from temnet_app.simulator.debris import (CAP_DENSITY, CAP_DEPTH, Fragment, Speck, sample_cap,
                                         sample_floc, sample_fragment, sample_specks,
                                         sample_vesicle)
from temnet_app.simulator.render import ParticleSpec, sample_virion
from temnet_app.simulator.sizes import measured_sizes

CAP_SIZE = (0.55, 0.95)     # out-of-section discs, as a fraction of a virion's size (default)
VIRION_OVERLAP = 0.08
MIN_VISIBLE = 0.6
CLUSTER_PROBABILITY = 0.55
_ATTEMPTS = 60


@dataclass
class Layout:
    """Particle specifications of one micrograph; ``labels`` are the clipped virion boxes."""

    virions: list[ParticleSpec] = field(default_factory=list)
    labels: list[Box] = field(default_factory=list)
    caps: list[ParticleSpec] = field(default_factory=list)
    vesicles: list[ParticleSpec] = field(default_factory=list)
    fragments: list[Fragment] = field(default_factory=list)
    specks: list[Speck] = field(default_factory=list)
    flocs: int = 0

    def distractor_counts(self) -> dict[str, int]:
        counts = {"out_of_section": len(self.caps), "vesicles": len(self.vesicles),
                  "membrane_fragments": len(self.fragments), "specks": len(self.specks)}
        if self.flocs:
            counts["flocs"] = self.flocs
        return counts


class _Discs:
    """Placed objects as discs (x, y, radius, kind) with vectorised overlap checks."""

    KINDS = ("virion", "cap", "vesicle", "fragment", "floc")

    def __init__(self) -> None:
        self.xyr = np.zeros((64, 3))
        self.codes = np.zeros(64, dtype=np.intp)
        self.n = 0

    @property
    def kind(self) -> list[str]:
        return [self.KINDS[c] for c in self.codes[:self.n]]

    def fits(self, x: float, y: float, r: float, allow: Mapping[str, float]) -> bool:
        """True when the disc overlaps no placed disc of kind ``k`` by more than
        ``allow[k]`` times the smaller radius."""
        if not self.n:
            return True
        xyr = self.xyr[:self.n]
        d = np.hypot(xyr[:, 0] - x, xyr[:, 1] - y)
        frac = np.array([allow.get(k, 1.0) for k in self.KINDS])[self.codes[:self.n]]
        return bool(np.all(d >= xyr[:, 2] + r - frac * np.minimum(xyr[:, 2], r)))

    def add(self, x: float, y: float, r: float, kind: str) -> None:
        if self.n == len(self.codes):
            self.xyr = np.concatenate([self.xyr, np.zeros_like(self.xyr)])
            self.codes = np.concatenate([self.codes, np.zeros_like(self.codes)])
        self.xyr[self.n] = (x, y, r)
        self.codes[self.n] = self.KINDS.index(kind)
        self.n += 1


def sample_virion_size(rng: np.random.Generator, class_name: str, magnification: float
                       ) -> tuple[float, float]:
    """A ``(width, height)`` box size in image px: a measured box of the class with ~4% jitter
    (kept within the class's measured range), scaled from 30,000x to ``magnification``."""
    sizes = measured_sizes(class_name)
    wh = sizes[int(rng.integers(len(sizes)))] * np.exp(rng.normal(0.0, 0.04, 2))
    wh = np.clip(wh, sizes.min(axis=0), sizes.max(axis=0))
    scale = magnification / DEFAULT_MAGNIFICATION
    return float(wh[0] * scale), float(wh[1] * scale)


def plan_layout(rng: np.random.Generator, *, width: int, height: int, magnification: float,
                nm_per_px: float, n_virions: int, class_names: Sequence[str],
                class_probs: Sequence[float], class_ids: Sequence[int], distractors: float,
                contrast: float, edge_virions: bool, flocs: float = 0.0,
                ambiguity: float = 0.0,
                cap_size: tuple[float, float] = CAP_SIZE,
                cap_depth: tuple[float, float] = CAP_DEPTH,
                cap_density: tuple[float, float] = CAP_DENSITY) -> Layout:
    """Place ``n_virions`` virions (fewer when the field is full) and the distractors in the
    image area ``width`` x ``height`` (px, above any info band)."""
    layout = Layout()
    discs = _Discs()
    virion_allow = {"virion": VIRION_OVERLAP, "cap": 0.15, "vesicle": 0.1, "fragment": 0.3}
    for _ in range(n_virions):
        k = int(rng.choice(len(class_names), p=class_probs))
        placed = False
        for _attempt in range(4):  # a new size, or the exact outline poked out of the image
            w, h = sample_virion_size(rng, class_names[k], magnification)
            r = 0.5 * math.sqrt(w * h)
            spot = _find_spot(rng, discs, r, width, height, virion_allow,
                              cluster=CLUSTER_PROBABILITY, edge=edge_virions, size=(w, h))
            if spot is None:
                continue
            spec = sample_virion(rng, class_ids[k], w, h, spot[0], spot[1], nm_per_px,
                                 contrast, ambiguity)
            label = _visible_box(spec.box(), width, height, edge_virions)
            if label is not None:
                layout.virions.append(spec)
                layout.labels.append(label)
                discs.add(spot[0], spot[1], r, "virion")
                placed = True
                break
        if not placed:
            # the field is full: stop here rather than skip this class and place smaller
            # ones, which would bias the class mix towards the smaller classes
            break
    n = max(len(layout.virions), 4)
    if distractors > 0:
        _place_caps(rng, layout, discs, n, width, height, magnification, nm_per_px, distractors,
                    contrast, cap_size, cap_depth, cap_density)
        for _ in range(_poisson(rng, n * rng.uniform(0.06, 0.18) * distractors)):
            d = math.exp(rng.uniform(math.log(45.0), math.log(300.0))) / nm_per_px
            spot = _find_spot(rng, discs, d / 2, width, height,
                              {"virion": 0.1, "cap": 0.3, "vesicle": 0.1, "fragment": 0.5},
                              cluster=0.3, edge=True)
            if spot is not None:
                layout.vesicles.append(sample_vesicle(rng, d, spot[0], spot[1], nm_per_px,
                                                      contrast))
                discs.add(spot[0], spot[1], d / 2, "vesicle")
        for _ in range(_poisson(rng, (1 + n * rng.uniform(0.05, 0.15)) * distractors)):
            d = rng.uniform(60.0, 260.0) / nm_per_px
            spot = _find_spot(rng, discs, d / 2, width, height,
                              {"virion": 0.35, "cap": 0.6, "vesicle": 0.5, "fragment": 0.6},
                              cluster=0.0, edge=True)
            if spot is not None:
                layout.fragments.append(sample_fragment(rng, d, spot[0], spot[1], nm_per_px,
                                                        contrast))
                discs.add(spot[0], spot[1], d / 2, "fragment")
        area_um2 = width * height * (nm_per_px / 1000.0) ** 2
        for _ in range(_poisson(rng, area_um2 * rng.uniform(0.5, 3.0) * distractors)):
            x, y = rng.uniform(0, width), rng.uniform(0, height)
            layout.specks.extend(sample_specks(rng, x, y, nm_per_px, contrast))
    if flocs > 0:
        _place_flocs(rng, layout, discs, width, height, nm_per_px, flocs, contrast)
    return layout


def _place_flocs(rng, layout: Layout, discs: _Discs, width: int, height: int,
                 nm_per_px: float, amount: float, contrast: float) -> None:
    """Granular flocs between the virions, more than half of them in a few drifts 0.3-0.8 um
    across (``amount`` 1: ~25-50 per um^2 of field where there is room)."""
    area_um2 = width * height * (nm_per_px / 1000.0) ** 2
    drifts = [(rng.uniform(0, width), rng.uniform(0, height),
               rng.uniform(300.0, 800.0) / nm_per_px)
              for _ in range(1 + _poisson(rng, 0.4 * area_um2))]
    allow = {"virion": 0.2, "cap": 1.0, "vesicle": 0.6, "fragment": 1.0, "floc": 0.7}
    for _ in range(_poisson(rng, area_um2 * rng.uniform(25.0, 50.0) * amount)):
        radius_nm = float(rng.uniform(35.0, 90.0))
        r = radius_nm / nm_per_px
        for _attempt in range(20):
            if rng.random() < 0.6:
                dx, dy, spread = drifts[int(rng.integers(len(drifts)))]
                x, y = rng.normal(dx, spread), rng.normal(dy, spread)
            else:
                x, y = rng.uniform(0, width), rng.uniform(0, height)
            if 0 <= x < width and 0 <= y < height and discs.fits(x, y, r, allow):
                layout.specks.extend(sample_floc(rng, x, y, radius_nm, nm_per_px, contrast))
                discs.add(x, y, r, "floc")
                layout.flocs += 1
                break


def _place_caps(rng, layout: Layout, discs: _Discs, n: int, width: int, height: int,
                magnification: float, nm_per_px: float, distractors: float,
                contrast: float, cap_size: tuple[float, float], cap_depth: tuple[float, float],
                cap_density: tuple[float, float]) -> None:
    """Out-of-section particles: grey discs (``cap_size`` of a virion's size), unlabelled."""
    names = ("mature", "eccentric", "immature")
    for _ in range(_poisson(rng, n * rng.uniform(0.6, 1.2) * distractors)):
        w, h = sample_virion_size(rng, names[int(rng.integers(3))], magnification)
        f = rng.uniform(*cap_size)
        w, h = w * f, h * f
        r = 0.5 * math.sqrt(w * h)
        spot = _find_spot(rng, discs, r, width, height,
                          {"virion": 0.15, "cap": 0.25, "vesicle": 0.2, "fragment": 0.5},
                          cluster=0.4, edge=True)
        if spot is not None:
            layout.caps.append(sample_cap(rng, w, h, spot[0], spot[1], nm_per_px, contrast,
                                          cap_depth, cap_density))
            discs.add(spot[0], spot[1], r, "cap")


def _find_spot(rng: np.random.Generator, discs: _Discs, r: float, width: int, height: int,
               allow: Mapping[str, float], cluster: float, edge: bool,
               size: Optional[tuple[float, float]] = None) -> Optional[tuple[float, float]]:
    """A free centre for a disc of radius ``r`` (clustered against a virion with probability
    ``cluster``); with ``size``, the box of that size there must be visible enough."""
    anchors = np.flatnonzero(discs.codes[:discs.n] == 0)
    half_w, half_h = (size[0] / 2, size[1] / 2) if size is not None else (r, r)
    lo_x, hi_x = (0.0, width) if edge else (half_w * 1.08, width - half_w * 1.08)
    lo_y, hi_y = (0.0, height) if edge else (half_h * 1.08, height - half_h * 1.08)
    if hi_x <= lo_x or hi_y <= lo_y:
        return None
    for _ in range(_ATTEMPTS):
        if len(anchors) and rng.random() < cluster:
            ax, ay, ar = discs.xyr[anchors[int(rng.integers(len(anchors)))]]
            ang = rng.uniform(0, 2 * math.pi)
            dist = ar + r - min(ar, r) * rng.uniform(-0.12, VIRION_OVERLAP)
            x, y = ax + dist * math.cos(ang), ay + dist * math.sin(ang)
            if not (lo_x <= x <= hi_x and lo_y <= y <= hi_y):
                continue
        else:
            x, y = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
        if size is not None and edge and _visible_fraction(x, y, size, width, height) < \
                MIN_VISIBLE + 0.03:
            continue
        if discs.fits(x, y, r, allow):
            return float(x), float(y)
    return None


def _visible_fraction(x: float, y: float, size: tuple[float, float], width: int,
                      height: int) -> float:
    w, h = size
    fx = max(0.0, min(x + w / 2, width) - max(x - w / 2, 0.0)) / w
    fy = max(0.0, min(y + h / 2, height) - max(y - h / 2, 0.0)) / h
    return fx * fy


def _visible_box(box: Box, width: int, height: int, edge: bool) -> Optional[Box]:
    x1, y1 = max(box.x1, 0.0), max(box.y1, 0.0)
    x2, y2 = min(box.x2, float(width)), min(box.y2, float(height))
    if x2 <= x1 or y2 <= y1:
        return None
    visible = (x2 - x1) * (y2 - y1) / box.area
    if visible < (MIN_VISIBLE if edge else 1.0 - 1e-9):
        return None
    # rounded to 0.001 px, the precision a VIA CSV keeps, so labels survive a round trip exactly
    return Box(*(round(v, 3) + 0.0 for v in (x1, y1, x2, y2)), box.class_id)


def _poisson(rng: np.random.Generator, mean: float) -> int:
    return int(rng.poisson(max(mean, 0.0)))
