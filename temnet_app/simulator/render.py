"""Virion models for the simulator: random particle specifications and their drawing.

A particle is a sphere (wobbly and slightly elliptical in projection) cut by a ~60 nm section:
a lipid bilayer shell, a stained lumen, and the class-specific interior (class ids of
``core.boxes.DEFAULT_SCHEME``):

- immature (3): a thick Gag shell (15-25 nm, denser on its inner NC/RNA side) just under the
  membrane, often incomplete (an arc of 180-330 degrees), with a lighter lumen.
- mature (2): a capsid core inside the lumen, seen as a cone (100-120 nm long, 40-60 nm at the
  broad end), a rod, or a disc (end-on), holding the dense RNP.
- eccentric (1): an empty, electron-lucent core (faint outline) with the dense RNP as a blob
  outside it, usually touching the membrane.

All lengths are nm in the particle frame (see :mod:`synthetic_geometry`). Densities are optical
densities per nm of path; ``contrast`` scales them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from temnet_app.core.boxes import Box
from temnet_app.simulator.geometry import (SECTION_NM, Canvas, Outline, lookup_wobble,
                                           sample_harmonics, shell_chord, slab_chord, wobble_table)

ECCENTRIC, MATURE, IMMATURE = 1, 2, 3

# Optical density per nm of path at contrast 1 (tuned against the reference micrograph).
MU_MEMBRANE = 0.0125
MU_LUMEN = 0.0042
MU_GAG = 0.0105
MU_RNP = 0.0175
MU_CAPSID = 0.012


@dataclass(frozen=True)
class Envelope:
    """Membrane sphere of 3-D radius ``radius3_nm`` cut by the slab ``z_lo < z < z_hi``."""

    outline: Outline
    radius3_nm: float
    z_lo: float
    z_hi: float
    membrane_nm: float
    mu_membrane: float
    mu_lumen: float
    fuzz: Optional[tuple[int, float, float]] = None  # (spike count, phase, density)


@dataclass(frozen=True)
class GagShell:
    """The immature Gag lattice: a spherical shell under the membrane with (optionally) a
    circular hole of half-angle ``hole`` (rad) around the 3-D axis ``axis``."""

    thickness_nm: float
    gap_nm: float
    mu: float
    axis: tuple[float, float, float]
    hole: float  # 0 for a complete shell


@dataclass(frozen=True)
class Core:
    """A capsid core: a tapered tube from its narrow to its broad end, seen in projection."""

    ux: float
    uy: float
    angle: float
    length: float  # projected distance between the end centres (nm); 0 = end-on disc
    r_narrow: float
    r_broad: float
    wall_nm: float
    mu_wall: float
    mu_fill_narrow: float
    mu_fill_broad: float
    path_mult: float  # longer paths through a tilted core
    lucent: float  # fraction of the lumen's stain missing inside an empty core


@dataclass(frozen=True)
class Blob:
    """An irregular dense sphere (RNP condensate) centred at ``(bx, by)`` nm."""

    bx: float
    by: float
    radius: float
    harmonics: tuple[tuple[int, float, float], ...]
    mu: float


@dataclass(frozen=True)
class ParticleSpec:
    """Everything needed to draw one particle; ``class_id`` 0 means unlabelled (a distractor)."""

    class_id: int
    envelope: Envelope
    gag: Optional[GagShell] = None
    core: Optional[Core] = None
    blobs: tuple[Blob, ...] = ()

    @property
    def outline(self) -> Outline:
        return self.envelope.outline

    def box(self) -> Box:
        return self.outline.box(self.class_id)


def sample_envelope(rng: np.random.Generator, outline: Outline, contrast: float,
                    grazing: bool = False, lumen_scale: float = 1.0,
                    depth: tuple[float, float] = (0.5, 0.92)) -> Envelope:
    """A membrane envelope whose visible outer edge is ``outline``.

    Labelled particles are cut through (or near) their equator; ``grazing`` cuts a cap off the
    top or bottom (an out-of-section particle: a grey disc with a weak edge), its section's near
    face at ``depth`` (a range) of the sphere's radius from the centre: the lower, the fuller
    and the softer-edged the disc.
    """
    r_vis = outline.radius_nm
    if grazing:
        frac = rng.uniform(*depth)  # z of the near face over the 3-D radius
        radius3 = r_vis / math.sqrt(1.0 - frac * frac)
        z_lo = frac * radius3
        z_hi = z_lo + SECTION_NM
    elif rng.random() < 0.9:
        radius3 = r_vis
        z_lo = float(rng.uniform(-SECTION_NM, 0.0))
        z_hi = z_lo + SECTION_NM
    else:
        z_near = float(rng.uniform(0.0, 0.1)) * r_vis
        radius3 = math.hypot(r_vis, z_near)
        z_lo, z_hi = z_near, z_near + SECTION_NM
    fuzz = None
    if rng.random() < 0.4:
        fuzz = (int(rng.integers(7, 15)), float(rng.uniform(0, 2 * math.pi)),
                float(rng.uniform(0.02, 0.05)) * contrast)
    return Envelope(outline, radius3, z_lo, z_hi,
                    membrane_nm=float(rng.uniform(5.0, 8.0)),
                    mu_membrane=MU_MEMBRANE * contrast * float(rng.uniform(0.85, 1.15)),
                    mu_lumen=MU_LUMEN * contrast * lumen_scale * float(rng.uniform(0.8, 1.2)),
                    fuzz=fuzz)


def sample_virion(rng: np.random.Generator, class_id: int, width_px: float, height_px: float,
                  cx: float, cy: float, nm_per_px: float, contrast: float = 1.0,
                  ambiguity: float = 0.0) -> ParticleSpec:
    """A labelled virion of ``class_id`` whose box is exactly ``width_px`` x ``height_px``.

    ``ambiguity`` (0-1, default 0) moves eccentric and mature interiors towards each other
    along the cues a virologist uses (see :func:`_eccentric_interior`, :func:`_mature_core`);
    it changes only values, never the random draws, so 0 gives the unchanged particle."""
    contrast *= float(rng.uniform(0.8, 1.25))
    outline = Outline.fit(rng, width_px, height_px, cx, cy, nm_per_px)
    lumen_scale = {IMMATURE: 0.75, MATURE: 1.0, ECCENTRIC: 1.0}[class_id]
    env = sample_envelope(rng, outline, contrast, lumen_scale=lumen_scale)
    inner = outline.radius_nm - env.membrane_nm - 2.0  # room inside the membrane (nm)
    if class_id == IMMATURE:
        # thickness 15-25 nm, less in small particles so that a lighter lumen remains
        thickness = min(float(rng.uniform(15.0, 25.0)), 0.3 * outline.radius_nm)
        # the hole faces roughly sideways, so the section shows an arc of ~180-330 degrees
        a, tilt = float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(-0.35, 0.35))
        axis = (math.cos(a) * math.cos(tilt), math.sin(a) * math.cos(tilt), math.sin(tilt))
        hole = 0.0 if rng.random() < 0.2 else math.radians(rng.uniform(15.0, 90.0))
        gag = GagShell(thickness_nm=thickness, gap_nm=float(rng.uniform(0.0, 1.0)),
                       mu=MU_GAG * contrast * float(rng.uniform(0.85, 1.2)), axis=axis,
                       hole=hole)
        return ParticleSpec(class_id, env, gag=gag)
    if class_id == MATURE:
        return ParticleSpec(class_id, env, core=_mature_core(rng, inner, contrast, ambiguity))
    if class_id == ECCENTRIC:
        core, blob = _eccentric_interior(rng, inner, contrast, ambiguity)
        return ParticleSpec(class_id, env, core=core, blobs=(blob,))
    raise ValueError(f"unknown virion class id {class_id}")


def _fit_core(rng, inner: float, length: float, r_broad: float, offset_dir: Optional[float],
              offset: float) -> tuple[float, float, float]:
    """Shrink ``length`` until the core fits inside ``inner`` nm, then place its centre."""
    length = max(0.0, min(length, 2 * (inner - r_broad) * 0.92))
    room = max(0.0, inner - length / 2 - r_broad)
    if offset_dir is None:
        offset_dir = float(rng.uniform(0, 2 * math.pi))
    dist = min(offset, room)
    return length, dist * math.cos(offset_dir), dist * math.sin(offset_dir)


def _mature_core(rng: np.random.Generator, inner: float, contrast: float,
                 ambiguity: float = 0.0) -> Core:
    """A cone, rod or disc capsid holding the RNP. With ``ambiguity`` a > 0 the core sits
    further off centre (up to 12 + 30a nm, so towards the membrane) and its narrow end is
    emptier (fill x (1 - 0.6a)), as in cores that look partly eccentric."""
    kind = rng.choice(["cone", "rod", "disc"], p=[0.65, 0.18, 0.17])
    tilt = 0.0
    if kind == "cone":
        tilt = min(abs(float(rng.normal(0.0, math.radians(25)))), math.radians(65))
        full_length = float(rng.uniform(100.0, 120.0))
        r_broad = float(rng.uniform(20.0, 30.0))
        r_narrow = float(rng.uniform(7.0, 12.0))
        length = full_length * math.cos(tilt) - r_broad - r_narrow
    elif kind == "rod":
        tilt = min(abs(float(rng.normal(0.0, math.radians(20)))), math.radians(60))
        r_broad = float(rng.uniform(13.0, 19.0))
        r_narrow = r_broad * float(rng.uniform(0.8, 1.0))
        length = float(rng.uniform(70.0, 105.0)) * math.cos(tilt) - 2 * r_broad
    else:  # end-on: the broad end seen as a disc
        r_broad = float(rng.uniform(18.0, 28.0))
        r_narrow = r_broad
        length = 0.0
    length, ux, uy = _fit_core(rng, inner, length, r_broad, None,
                               float(rng.uniform(0, 12.0 + 30.0 * ambiguity)))
    mu = MU_RNP * contrast * float(rng.uniform(0.85, 1.15))
    return Core(ux, uy, float(rng.uniform(0, 2 * math.pi)), length, r_narrow, r_broad,
                wall_nm=float(rng.uniform(3.0, 4.5)), mu_wall=MU_CAPSID * contrast,
                mu_fill_narrow=mu * float(rng.uniform(0.5, 0.8)) * (1.0 - 0.6 * ambiguity),
                mu_fill_broad=mu,
                path_mult=min(1.0 / max(math.cos(tilt), 1e-3), 2.0) if kind != "disc" else 1.2,
                lucent=0.0)


def _eccentric_interior(rng: np.random.Generator, inner: float, contrast: float,
                        ambiguity: float = 0.0) -> tuple[Core, Blob]:
    """An empty core with the RNP as a blob outside it. With ``ambiguity`` a > 0 the blob
    touches the membrane less often (72% x (1 - 0.6a)), is no denser than a mature core's
    RNP at a = 1 (density x (1.15-1.45) - 0.3a) and the empty core is less lucent (x
    (1 - 0.7a)) with a capsid wall closer to a mature one's: the ambiguous middle."""
    a = float(ambiguity)
    alpha = float(rng.uniform(0, 2 * math.pi))
    radius = float(rng.uniform(16.0, 28.0))
    if rng.random() < 0.72 * (1.0 - 0.6 * a):  # touching (pressed into) the membrane
        dist = inner + 2.0 - radius * float(rng.uniform(0.55, 0.9))
    else:
        dist = float(rng.uniform(0.3, 0.55)) * inner
    blob = Blob(dist * math.cos(alpha), dist * math.sin(alpha), radius,
                sample_harmonics(rng, roughness=2.5, polygons=False),
                MU_RNP * contrast * float(rng.uniform(1.15 - 0.3 * a, 1.45 - 0.3 * a)))
    if rng.random() < 0.5:  # an empty cone
        r_broad, r_narrow = float(rng.uniform(16.0, 25.0)), float(rng.uniform(7.0, 11.0))
        length = float(rng.uniform(60.0, 95.0)) - r_broad - r_narrow
    else:  # an empty ring (core cut across)
        r_broad = r_narrow = float(rng.uniform(14.0, 26.0))
        length = 0.0
    length, ux, uy = _fit_core(rng, inner, length, r_broad, alpha + math.pi,
                               float(rng.uniform(0.1, 0.35)) * inner)
    core = Core(ux, uy, float(rng.uniform(0, 2 * math.pi)), length, r_narrow, r_broad,
                wall_nm=float(rng.uniform(2.5, 4.0)),
                mu_wall=MU_CAPSID * contrast * float(rng.uniform(0.4 + 0.4 * a, 0.8 + 0.2 * a)),
                mu_fill_narrow=0.0, mu_fill_broad=0.0, path_mult=1.0,
                lucent=float(rng.uniform(0.6, 0.95)) * (1.0 - 0.7 * a))
    return core, blob


def draw_particle(canvas: Canvas, spec: ParticleSpec) -> None:
    """Add the particle's projected density to the canvas (only the part inside the canvas)."""
    env = spec.envelope
    margin_px = 16.0 / canvas.nm_per_px
    region = canvas.region(*env.outline.bounds(margin_px))
    if region is None:
        return
    f = env.outline.frame(region)
    rho2 = f.rho * f.rho
    r3, lo, hi = env.radius3_nm, env.z_lo, env.z_hi
    r_in = r3 - env.membrane_nm
    membrane = env.mu_membrane * shell_chord(rho2, r3, r_in, lo, hi)
    lumen = env.mu_lumen * slab_chord(rho2, r_in, lo, hi)
    dense = np.zeros_like(lumen)
    if env.fuzz is not None:
        count, phase, strength = env.fuzz
        edge = f.rho - np.float32(env.outline.radius_nm + 5.0)
        spikes = (0.5 + 0.5 * np.cos(count * f.theta + phase)) ** 6
        membrane += strength * np.exp(-(edge * edge) / np.float32(12.0)) * spikes
    if spec.gag is not None:
        g = spec.gag
        outer = r_in - g.gap_nm
        inner = outer - g.thickness_nm
        shell = shell_chord(rho2, outer, inner, lo, hi)
        shell += 0.7 * shell_chord(rho2, inner + 0.35 * g.thickness_nm, inner, lo, hi)
        if g.hole > 0:
            shell = shell * _hole_mask(f, rho2, g, 0.5 * (outer + inner), lo, hi)
        dense += g.mu * shell
    if spec.core is not None:
        wall, fill, lucent = _core_density(f.qx, f.qy, spec.core)
        membrane += wall
        dense += fill
        if spec.core.lucent:
            lumen -= env.mu_lumen * spec.core.lucent * lucent
    for blob in spec.blobs:
        dense += _blob_density(f.qx, f.qy, blob)
    plain = membrane + lumen + dense
    canvas.add(region, plain, 0.15 * membrane + 0.25 * lumen + 0.1 * dense)
    canvas.occupy(region, np.clip((np.float32(env.outline.radius_nm) - f.rho) / np.float32(4.0),
                                  0.0, 1.0))


def _hole_mask(f, rho2: np.ndarray, gag: GagShell, mid: float, lo: float, hi: float
               ) -> np.ndarray:
    """Fraction of the shell present along each ray: the shell points at the mid radius above
    and below the pixel (those inside the section) are tested against the hole's cone."""
    z = np.sqrt(np.maximum(np.float32(mid * mid) - rho2, 0.0))
    norm = np.sqrt(np.maximum(rho2, np.float32(mid * mid)))
    ax, ay, az = (np.float32(v) for v in gag.axis)
    flat = (f.qx * ax + f.qy * ay) / norm
    lean = z * az / norm
    edge, soft = np.float32(math.cos(gag.hole)), np.float32(0.35)
    up = np.clip((edge - (flat + lean)) / soft + 0.5, 0.0, 1.0)
    down = np.clip((edge - (flat - lean)) / soft + 0.5, 0.0, 1.0)
    w_up = ((z >= lo) & (z <= hi)).astype(np.float32)
    w_down = ((-z >= lo) & (-z <= hi)).astype(np.float32)
    total = w_up + w_down
    return np.where(total > 0, (w_up * up + w_down * down) / np.maximum(total, 1.0),
                    0.5 * (up + down))


def _core_density(qx: np.ndarray, qy: np.ndarray, core: Core
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wall density, fill density, inner path length in nm) of a tapered tube core."""
    px, py = qx - np.float32(core.ux), qy - np.float32(core.uy)
    c, s = np.float32(math.cos(core.angle)), np.float32(math.sin(core.angle))
    along = px * c + py * s
    across = py * c - px * s
    if core.length > 0:
        t = np.clip((along + np.float32(core.length / 2)) / np.float32(core.length), 0.0, 1.0)
        rest = along - (t * np.float32(core.length) - np.float32(core.length / 2))
    else:
        t = np.ones_like(along)
        rest = along
    d2 = rest * rest + across * across
    radius = np.float32(core.r_narrow) + np.float32(core.r_broad - core.r_narrow) * t
    r_inner = np.maximum(radius - np.float32(core.wall_nm), 0.0)
    outer_path = 2.0 * np.sqrt(np.maximum(radius * radius - d2, 0.0))
    inner_path = 2.0 * np.sqrt(np.maximum(r_inner * r_inner - d2, 0.0))
    m = np.float32(core.path_mult)
    outer_path = np.minimum(outer_path * m, SECTION_NM)
    inner_path = np.minimum(inner_path * m, SECTION_NM)
    wall = core.mu_wall * (outer_path - inner_path)
    fill_mu = (np.float32(core.mu_fill_narrow)
               + np.float32(core.mu_fill_broad - core.mu_fill_narrow) * t)
    return wall, fill_mu * inner_path, inner_path


def _blob_density(qx: np.ndarray, qy: np.ndarray, blob: Blob) -> np.ndarray:
    px, py = qx - np.float32(blob.bx), qy - np.float32(blob.by)
    d2 = px * px + py * py
    near = d2 < np.float32((blob.radius * 1.4) ** 2)
    out = np.zeros_like(qx)
    if not near.any():
        return out
    theta = np.arctan2(py[near], px[near])
    r = np.float32(blob.radius) * lookup_wobble(wobble_table(blob.harmonics), theta)
    path = np.minimum(2.0 * np.sqrt(np.maximum(r * r - d2[near], 0.0)), SECTION_NM)
    out[near] = blob.mu * path
    return out
