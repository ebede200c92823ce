"""Geometry shared by the simulator's drawing code: the density canvas, wobbly particle outlines,
and path lengths through a thin section.

Frames and units:

- image frame: full-micrograph pixels, x to the right, y down; pixel ``i`` covers ``[i, i+1)``.
- camera frame: the canvas is held at camera resolution, ``binning`` image pixels per camera
  pixel; camera pixel ``j`` is centred on image coordinate ``binning * (j + 0.5)``.
- particle frame: nanometres around a particle centre, through the particle's outline matrix.

Densities are projected optical densities (dimensionless): the specimen transmits
``exp(-density)`` of the beam. A 3-D object contributes ``mu * path length`` where ``mu`` is its
density per nm and the path is clipped to the section (an Epon slab ~60 nm thick).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Optional

import numpy as np

from temnet_app.core.boxes import Box

SECTION_NM = 60.0  # thickness of the ultrathin section (paper: "about 60 nm")
_TABLE_SIZE = 2048
_TABLE_THETA = np.linspace(-math.pi, math.pi, _TABLE_SIZE, endpoint=False) + math.pi / _TABLE_SIZE


@dataclass
class Region:
    """A rectangle of camera pixels and the image coordinates of their centres."""

    rows: slice
    cols: slice
    x: np.ndarray  # (1, w) float32 image x of camera-pixel centres
    y: np.ndarray  # (h, 1) float32 image y of camera-pixel centres


@dataclass
class Canvas:
    """Optical-density map at camera resolution plus an optional N(0, 1) grain texture."""

    density: np.ndarray  # (Hc, Wc) float32
    grain: Optional[np.ndarray]  # (Hc, Wc) float32 texture for specimen interiors, or None
    binning: int
    nm_per_px: float  # image pixel size in nm
    occupancy: Optional[np.ndarray] = None  # (Hc, Wc) float32 0..1: where particles are

    @property
    def camera_nm(self) -> float:
        """Camera pixel size in nm."""
        return self.nm_per_px * self.binning

    def region(self, x1: float, y1: float, x2: float, y2: float) -> Optional[Region]:
        """Camera pixels whose centres may fall in the image rectangle; None when empty."""
        b = self.binning
        hc, wc = self.density.shape
        j0, j1 = max(0, int(math.floor(x1 / b))), min(wc, int(math.ceil(x2 / b)) + 1)
        i0, i1 = max(0, int(math.floor(y1 / b))), min(hc, int(math.ceil(y2 / b)) + 1)
        if j1 <= j0 or i1 <= i0:
            return None
        x = (b * (np.arange(j0, j1, dtype=np.float32) + 0.5))[None, :]
        y = (b * (np.arange(i0, i1, dtype=np.float32) + 0.5))[:, None]
        return Region(slice(i0, i1), slice(j0, j1), x, y)

    def add(self, region: Region, values: np.ndarray,
            textured: Optional[np.ndarray] = None) -> None:
        """Add ``values + grain * textured`` to the region (the grain term only when grain is on).

        ``textured`` is the part of the density that the stain's granularity modulates, already
        weighted by the texture strength (e.g. ``0.4 * lumen``).
        """
        if textured is not None and self.grain is not None:
            values = values + textured * self.grain[region.rows, region.cols]
        self.density[region.rows, region.cols] += values


    def occupy(self, region: Region, footprint: np.ndarray) -> None:
        """Mark where a particle sits (0..1), so that debris can be kept out of it."""
        if self.occupancy is not None:
            view = self.occupancy[region.rows, region.cols]
            np.maximum(view, footprint, out=view)


def slab_chord(rho2: np.ndarray, radius: float, z_lo: float, z_hi: float) -> np.ndarray:
    """Path length (nm) through a sphere of ``radius`` nm inside the slab ``z_lo < z < z_hi``.

    ``rho2`` is the squared in-plane distance (nm^2) from the sphere centre; z is along the beam,
    measured from the sphere centre.
    """
    half = np.sqrt(np.maximum(radius * radius - rho2, 0.0))
    return np.maximum(np.minimum(half, z_hi) - np.maximum(-half, z_lo), 0.0)


def shell_chord(rho2: np.ndarray, outer: float, inner: float, z_lo: float, z_hi: float
                ) -> np.ndarray:
    """Path length (nm) through a spherical shell between ``inner`` and ``outer`` radii."""
    path = slab_chord(rho2, outer, z_lo, z_hi)
    if inner > 0:
        path = path - slab_chord(rho2, inner, z_lo, z_hi)
    return path


def arc_mask(theta: np.ndarray, centre: float, coverage: float, soft: float = 0.3) -> np.ndarray:
    """1 inside an arc of ``coverage`` radians centred on angle ``centre``, 0 outside, with
    soft ends about ``soft`` radians wide; a coverage of 2*pi or more gives all ones."""
    if coverage >= 2 * math.pi:
        return np.ones_like(theta)
    delta = np.abs(np.mod(theta - np.float32(centre) + np.float32(math.pi),
                          np.float32(2 * math.pi)) - np.float32(math.pi))
    return np.clip((coverage / 2 - delta) / soft + 0.5, 0.0, 1.0)


def sample_harmonics(rng: np.random.Generator, roughness: float = 1.0, polygons: bool = True
                     ) -> tuple[tuple[int, float, float], ...]:
    """Random low-order outline harmonics ``(k, amplitude, phase)``: gently wobbly shapes, now
    and then (``polygons``) a soft polygon (real virions are often faceted in thin sections)."""
    sd = {2: 0.022, 3: 0.018, 4: 0.013, 5: 0.010, 6: 0.007, 9: 0.004}
    out = [(k, float(rng.normal(0.0, s * roughness)), float(rng.uniform(0, 2 * math.pi)))
           for k, s in sd.items()]
    if polygons and rng.random() < min(0.35 * roughness, 0.9):
        k = int(rng.integers(4, 8))
        out.append((k, float(rng.uniform(0.015, 0.045)), float(rng.uniform(0, 2 * math.pi))))
    return tuple(out)


def wobble(theta: np.ndarray, harmonics: tuple[tuple[int, float, float], ...]) -> np.ndarray:
    """Relative radius ``1 + sum a_k cos(k theta + phi_k)`` (floored at 0.6)."""
    w = np.ones_like(theta)
    for k, amp, phase in harmonics:
        w += amp * np.cos(k * theta + phase)
    return np.maximum(w, 0.6)


def wobble_table(harmonics: tuple[tuple[int, float, float], ...]) -> np.ndarray:
    """:func:`wobble` sampled at ``_TABLE_SIZE`` angles from -pi (float32), for fast lookup."""
    return wobble(_TABLE_THETA, harmonics).astype(np.float32)


def lookup_wobble(table: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Nearest-sample lookup of a :func:`wobble_table` at angles ``theta`` in [-pi, pi]."""
    index = ((theta + np.float32(math.pi)) * np.float32(_TABLE_SIZE / (2 * math.pi)))
    return table[np.minimum(index.astype(np.intp), _TABLE_SIZE - 1)]


@dataclass(frozen=True)
class Outline:
    """A closed, gently wobbly, slightly elliptical outline around ``(cx, cy)`` (image px).

    ``matrix`` maps the unit frame (where the outline is ``r = wobble(theta)``) to image-pixel
    offsets; ``radius_nm`` converts unit-frame lengths to nm (the outline's equivalent radius).
    """

    cx: float
    cy: float
    matrix: tuple[float, float, float, float]
    harmonics: tuple[tuple[int, float, float], ...]
    radius_nm: float

    @classmethod
    def fit(cls, rng: np.random.Generator, width: float, height: float, cx: float, cy: float,
            nm_per_px: float, roughness: float = 1.0) -> "Outline":
        """A random outline whose tight box is exactly ``width`` x ``height`` image pixels."""
        harmonics = sample_harmonics(rng, roughness)
        beta = float(rng.uniform(0, math.pi))
        aspect = float(rng.uniform(0.93, 1.07))
        c, s = math.cos(beta), math.sin(beta)
        base = np.array([[c * aspect, -s], [s * aspect, c]])
        table = wobble_table(harmonics)
        xs, ys = _outline_points(base, table)
        sx = width / float(xs.max() - xs.min())
        sy = height / float(ys.max() - ys.min())
        m = np.diag([sx, sy]) @ base
        radius_nm = math.sqrt(abs(np.linalg.det(m))) * nm_per_px
        outline = cls(float(cx), float(cy), tuple(float(v) for v in m.ravel()), harmonics,
                      radius_nm)
        # cache what is already known: the wobble table and the extents (same sample points)
        outline.__dict__["_table"] = table
        outline.__dict__["_extents"] = (sx * float(xs.min()), sx * float(xs.max()),
                                        sy * float(ys.min()), sy * float(ys.max()))
        return outline

    @classmethod
    def circle(cls, radius_px: float, cx: float, cy: float, nm_per_px: float,
               harmonics: tuple[tuple[int, float, float], ...] = ()) -> "Outline":
        return cls(float(cx), float(cy), (radius_px, 0.0, 0.0, radius_px), tuple(harmonics),
                   radius_px * nm_per_px)

    def scaled(self, factor: float) -> "Outline":
        """The same shape scaled about its centre (used for grazing sections of a particle)."""
        return Outline(self.cx, self.cy, tuple(v * factor for v in self.matrix), self.harmonics,
                       self.radius_nm * factor)

    def extents(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` of the outline as offsets from the centre (image px)."""
        return self._extents

    @cached_property
    def _extents(self) -> tuple[float, float, float, float]:
        xs, ys = _outline_points(np.array(self.matrix).reshape(2, 2), self._table)
        return float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())

    @cached_property
    def _table(self) -> np.ndarray:
        return wobble_table(self.harmonics)

    def box(self, class_id: int) -> Box:
        """The tight box of the outline in image pixels."""
        x0, x1, y0, y1 = self.extents()
        return Box(self.cx + x0, self.cy + y0, self.cx + x1, self.cy + y1, class_id)

    def bounds(self, margin_px: float = 0.0) -> tuple[float, float, float, float]:
        x0, x1, y0, y1 = self.extents()
        return (self.cx + x0 - margin_px, self.cy + y0 - margin_px,
                self.cx + x1 + margin_px, self.cy + y1 + margin_px)

    def frame(self, region: Region) -> "ParticleFrame":
        """Particle-frame coordinates (nm) of the region's camera-pixel centres."""
        a, b, c, d = self.matrix
        det = a * d - b * c
        ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
        dx = region.x - np.float32(self.cx)
        dy = region.y - np.float32(self.cy)
        scale = np.float32(self.radius_nm)
        qx = (np.float32(ia) * dx + np.float32(ib) * dy) * scale
        qy = (np.float32(ic) * dx + np.float32(id_) * dy) * scale
        theta = np.arctan2(qy, qx)
        rho = np.sqrt(qx * qx + qy * qy) / lookup_wobble(self._table, theta)
        return ParticleFrame(qx, qy, rho, theta)


@dataclass
class ParticleFrame:
    """``qx, qy``: nm offsets in the particle frame; ``rho``: nm radius measured so that the
    outline sits at ``radius_nm`` (wobble removed); ``theta``: angle in radians."""

    qx: np.ndarray
    qy: np.ndarray
    rho: np.ndarray
    theta: np.ndarray


_COS, _SIN = np.cos(_TABLE_THETA), np.sin(_TABLE_THETA)


def _outline_points(matrix: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The outline sampled at the wobble table's angles, mapped to image-pixel offsets."""
    r = table.astype(np.float64)
    ux, uy = r * _COS, r * _SIN
    return matrix[0, 0] * ux + matrix[0, 1] * uy, matrix[1, 0] * ux + matrix[1, 1] * uy
