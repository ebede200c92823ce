"""Unlabelled distractors of the simulator: what real pellet sections hold besides virions.

- out-of-section particles ("caps"): a virion whose equator lies outside the section shows as a
  faint grey disc with a weak or no membrane. Annotators skip them, so they are NOT labelled.
- core-less vesicles: a thin membrane ring of any size, empty or mottled inside (not labelled).
- membrane fragments: open arcs of bilayer.
- dense precipitate specks: small, very dark dots (stain precipitate), alone or in clusters.
- "cauliflower" flocs (``flocs`` > 0): virion-sized (60-150 nm) clusters of many grey granules,
  in drifts between the virions, as in real pellet sections (the real reference micrograph has
  ~23% of its non-virion area under them; the fuzzy debris clouds give ~5%).

(The fuzzy cell-debris clouds of the background are part of :mod:`synthetic_noise`.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from temnet_app.simulator.geometry import (SECTION_NM, Canvas, Outline, arc_mask, sample_harmonics,
                                           shell_chord, slab_chord)
from temnet_app.simulator.render import MU_MEMBRANE, MU_RNP, Blob, ParticleSpec, sample_envelope

# Out-of-section discs by default: the section's near face at 0.5-0.92 of the sphere's radius,
# content 0.9-2.2 times a virion lumen's: faint discs. The real reference also has fuller, darker
# grey discs with a soft edge (about depth 0.3-0.55, density 2.5-6).
CAP_DEPTH = (0.5, 0.92)
CAP_DENSITY = (0.9, 2.2)


def sample_cap(rng: np.random.Generator, width_px: float, height_px: float, cx: float,
               cy: float, nm_per_px: float, contrast: float = 1.0,
               depth: tuple[float, float] = CAP_DEPTH,
               density: tuple[float, float] = CAP_DENSITY) -> ParticleSpec:
    """An out-of-section particle whose visible disc is ``width_px`` x ``height_px``; its
    section's near face at ``depth`` of the sphere's radius (see
    :func:`~temnet_app.simulator.render.sample_envelope`), its content ``density`` times a
    virion lumen's (both ranges)."""
    contrast *= float(rng.uniform(0.8, 1.2))
    outline = Outline.fit(rng, width_px, height_px, cx, cy, nm_per_px)
    env = sample_envelope(rng, outline, contrast, grazing=True,
                          lumen_scale=float(rng.uniform(*density)), depth=depth)
    blobs: tuple[Blob, ...] = ()
    if rng.random() < 0.25:  # a grazed core or RNP: a faint darker patch
        r = float(rng.uniform(10.0, 22.0))
        ang = float(rng.uniform(0, 2 * math.pi))
        dist = float(rng.uniform(0.0, 0.5)) * outline.radius_nm
        blobs = (Blob(dist * math.cos(ang), dist * math.sin(ang), r,
                      sample_harmonics(rng, roughness=2.5, polygons=False),
                      MU_RNP * contrast * float(rng.uniform(0.25, 0.5))),)
    return ParticleSpec(0, env, blobs=blobs)


def sample_vesicle(rng: np.random.Generator, diameter_px: float, cx: float, cy: float,
                   nm_per_px: float, contrast: float = 1.0) -> ParticleSpec:
    """A core-less vesicle: a membrane ring, empty or faintly mottled inside."""
    contrast *= float(rng.uniform(0.8, 1.2))
    aspect = float(rng.uniform(0.8, 1.2))
    outline = Outline.fit(rng, diameter_px * aspect, diameter_px / aspect, cx, cy, nm_per_px,
                          roughness=1.6)
    lumen = 0.0 if rng.random() < 0.4 else float(rng.uniform(0.2, 0.9))
    env = sample_envelope(rng, outline, contrast, lumen_scale=lumen)
    return ParticleSpec(0, env)


@dataclass(frozen=True)
class Fragment:
    """An open arc of membrane: part of a sphere shell of the outline's radius."""

    outline: Outline
    membrane_nm: float
    mu: float
    centre: float
    coverage: float


def sample_fragment(rng: np.random.Generator, diameter_px: float, cx: float, cy: float,
                    nm_per_px: float, contrast: float = 1.0) -> Fragment:
    outline = Outline.fit(rng, diameter_px, diameter_px * float(rng.uniform(0.6, 1.0)), cx, cy,
                          nm_per_px, roughness=2.5)
    return Fragment(outline, float(rng.uniform(5.0, 8.0)),
                    MU_MEMBRANE * contrast * float(rng.uniform(0.7, 1.2)),
                    float(rng.uniform(0, 2 * math.pi)), math.radians(rng.uniform(40, 200)))


def draw_fragment(canvas: Canvas, frag: Fragment) -> None:
    region = canvas.region(*frag.outline.bounds(4.0 / canvas.nm_per_px))
    if region is None:
        return
    f = frag.outline.frame(region)
    r = frag.outline.radius_nm
    path = shell_chord(f.rho * f.rho, r, r - frag.membrane_nm, -SECTION_NM / 2, SECTION_NM / 2)
    values = frag.mu * path * arc_mask(f.theta, frag.centre, frag.coverage, soft=0.5)
    canvas.add(region, values, 0.15 * values)


@dataclass(frozen=True)
class Speck:
    x: float  # image px
    y: float
    radius_nm: float
    mu: float


def sample_specks(rng: np.random.Generator, cx: float, cy: float, nm_per_px: float,
                  contrast: float = 1.0) -> list[Speck]:
    """A single precipitate speck or a small cluster of them around ``(cx, cy)``."""
    n = 1 if rng.random() < 0.6 else int(rng.integers(3, 10))
    spread_px = float(rng.uniform(8.0, 30.0)) / nm_per_px
    out = []
    for _ in range(n):
        dx, dy = (rng.normal(0.0, spread_px, 2) if n > 1 else (0.0, 0.0))
        out.append(Speck(cx + float(dx), cy + float(dy), float(rng.uniform(2.0, 7.0)),
                         0.05 * contrast * float(rng.uniform(0.7, 1.5))))
    return out


def draw_speck(canvas: Canvas, speck: Speck) -> None:
    reach = (speck.radius_nm + 2.0) / canvas.nm_per_px
    region = canvas.region(speck.x - reach, speck.y - reach, speck.x + reach, speck.y + reach)
    if region is None:
        return
    dx = (region.x - np.float32(speck.x)) * np.float32(canvas.nm_per_px)
    dy = (region.y - np.float32(speck.y)) * np.float32(canvas.nm_per_px)
    path = slab_chord(dx * dx + dy * dy, speck.radius_nm, -speck.radius_nm, speck.radius_nm)
    canvas.add(region, speck.mu * path)


def sample_floc(rng: np.random.Generator, cx: float, cy: float, radius_nm: float,
                nm_per_px: float, contrast: float = 1.0) -> list[Speck]:
    """A granular floc of radius ``radius_nm`` around ``(cx, cy)``: 40-160 granules of 5-11 nm,
    denser towards the middle, each much fainter than a precipitate speck."""
    n = int(rng.integers(40, 161))
    radius_px = radius_nm / nm_per_px
    aspect = float(rng.uniform(0.75, 1.3))
    tilt = float(rng.uniform(0, math.pi))
    out = []
    for _ in range(n):
        rho = radius_px * float(rng.random()) ** 0.65
        ang = float(rng.uniform(0, 2 * math.pi))
        u, v = rho * math.cos(ang) * aspect, rho * math.sin(ang) / aspect
        x = cx + u * math.cos(tilt) - v * math.sin(tilt)
        y = cy + u * math.sin(tilt) + v * math.cos(tilt)
        out.append(Speck(x, y, float(rng.uniform(5.0, 11.0)),
                         0.012 * contrast * float(rng.uniform(0.6, 1.6))))
    return out
