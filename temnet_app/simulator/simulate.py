"""Simulated thin-section TEM micrographs of pelleted HIV-1, with exact labels.

The detector shipped with TEMNet Studio is trained on this output, so the simulator follows the
physics of the real images (JEOL 1200EX, ~60 nm Epon sections, uranyl/lead stain, AMT 2k CCD):
particles are spheres cut by the section and projected (membrane rings come from the tangential
path through the bilayer; particles whose equator lies outside the section become faint grey
discs); class interiors follow the published morphologies; the pellet background is grainy with
fuzzy debris clouds; the beam is uneven; the camera blurs, adds shot and read noise and is
upsampled to the image grid. Every length is physical (nm) and scales with magnification
(0.561 nm/px at 30,000x). Labels are the tight boxes of each virion's outer membrane, computed
from the same outline that is drawn (class ids of ``core.boxes.DEFAULT_SCHEME``).

Modules: this one (parameters, presets, :func:`simulate`, :func:`simulate_set`),
``synthetic_layout`` (counts, sizes, placement), ``synthetic_render`` (virions),
``synthetic_debris`` (distractors), ``synthetic_noise`` (background, beam, camera),
``synthetic_geometry`` (shared geometry), ``synthetic_band`` (info band), ``synthetic_sizes``
(the measured virion box sizes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np

from temnet_app.core.boxes import DEFAULT_SCHEME, Box, count_by_class
from temnet_app.core.errors import TemnetError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress
from temnet_app.core.units import DEFAULT_MAGNIFICATION, magnification_from_pixel_size, nm_per_pixel
from temnet_app.simulator.band import band_height, draw_info_band
from temnet_app.simulator.debris import CAP_DENSITY, CAP_DEPTH, draw_fragment, draw_speck
from temnet_app.simulator.geometry import Canvas
from temnet_app.simulator.layout import CAP_SIZE, plan_layout
from temnet_app.simulator.noise import (expose, illumination, specimen_background, to_grey,
                                        upsample_grey)
from temnet_app.simulator.render import draw_particle
from temnet_app.simulator.settings_check import (as_range, check_magnification_or_fail,
                                                 validate_params)

Range = Union[float, tuple[float, float]]

# Class frequencies of the 1,806 measured virions of the TEMNet dataset.
DATASET_MIX: dict[str, float] = {"eccentric": 678 / 1806, "mature": 896 / 1806,
                                 "immature": 232 / 1806}


@dataclass(frozen=True)
class Preset:
    """A named experimental condition: its class mix and any realism knobs it changes."""

    name: str
    class_mix: Mapping[str, float]
    description: str
    knobs: Mapping[str, float] = field(default_factory=dict)


def _mix(eccentric: float, mature: float, immature: float) -> dict[str, float]:
    return {"eccentric": eccentric, "mature": mature, "immature": immature}


# The paper gives the per-sample distributions only as bar charts (Figures 7, 8, A.15), so these
# mixes are approximate. Its text says the WT and delIN micrographs had the lowest contrast and
# the most noise; those presets lower contrast and dose.
PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("WT", _mix(0.14, 0.78, 0.08), "wild-type HIV-1 NL4-3: mostly mature",
           {"contrast": 0.85, "dose": 700.0}),
    Preset("PR-D25A", _mix(0.0, 0.0, 1.0), "protease active-site mutant: all immature"),
    Preset("IN-D116N", _mix(0.22, 0.68, 0.10),
           "integrase catalytic (class I) mutant D116N: close to wild type, mostly mature"),
    Preset("IN-N184L", _mix(0.70, 0.20, 0.10), "integrase class II mutant N184L: mostly eccentric"),
    Preset("delIN", _mix(0.72, 0.13, 0.15), "integrase deletion: mostly eccentric",
           {"contrast": 0.85, "dose": 700.0}),
    Preset("IN-E96A", _mix(0.45, 0.45, 0.10), "integrase mutant E96A: mixed"),
    Preset("ALLINI-BI-D", _mix(0.75, 0.18, 0.07),
           "WT treated with the ALLINI BI-D: mostly eccentric"),
    Preset("dataset", DATASET_MIX, "the overall class mix of the TEMNet dataset"),
)}


@dataclass(frozen=True)
class SimulationParams:
    """What to simulate. Sizes are image pixels; ``density`` is labelled virions per um^2 of the
    imaged area (a value or a (low, high) range sampled per micrograph); ``count`` (a number or
    an inclusive range) replaces the density when set. ``info_band`` paints the microscope band
    over the bottom ~9.7% of ``height`` (virions are only placed above it) and ``file_name`` is
    the name printed in it.

    Realism knobs: ``distractors`` scales the unlabelled objects (out-of-section discs, vesicles,
    membrane fragments, specks; 0 = none); ``debris`` the fuzzy cell-debris clouds; ``flocs``
    granular "cauliflower" flocs in drifts between the virions (0 = none, the default; 1 = ~25
    per um^2 where there is room); ``cap_size`` the out-of-section discs' size as a fraction of a
    virion's (a value or a range, default 0.55-0.95); ``cap_depth`` where their section's near
    face lies, as a fraction of the sphere's radius (default 0.5-0.92: faint discs; 0.3-0.55
    gives fuller discs with a soft edge) and ``cap_density`` their content's density in virion
    lumens (default 0.9-2.2); ``class_ambiguity`` (0-1, default 0)
    moves eccentric and mature interiors towards an ambiguous middle (detached, paler RNP
    blobs and less empty cores; off-centre, half-empty mature cores), for benchmarks of subtle
    classes; ``contrast``
    all specimen densities; ``illumination`` the beam's unevenness; ``blur_nm`` the defocus blur
    (Gaussian sigma, nm); ``dose`` the open-beam electrons per camera pixel (shot noise);
    ``read_noise`` grey levels; ``binning`` image pixels per camera pixel (1 or 2);
    ``edge_virions`` keeps virions cut by the image edge (labelled with clipped boxes);
    ``noise=False`` switches shot and read noise off, ``texture=False`` the stain grain, the
    pellet background and the debris (a flat background, for known-answer tests).

    Scale: ``pixel_size_nm`` when set, else ``magnification`` at the reference calibration
    (0.561 nm/px at 30,000x). ``magnification`` is also the label written in the info band and
    the file, so a camera other than the reference one is ``magnification=30000,
    pixel_size_nm=0.28``.
    """

    width: int = 4000
    height: int = 2620
    magnification: float = DEFAULT_MAGNIFICATION
    density: Range = (10.0, 30.0)
    count: Optional[Union[int, tuple[int, int]]] = None
    class_mix: Mapping[str, float] = field(default_factory=lambda: dict(DATASET_MIX))
    seed: int = 0
    info_band: bool = False
    file_name: Optional[str] = None
    distractors: float = 1.0
    debris: float = 1.0
    flocs: float = 0.0
    cap_size: Range = CAP_SIZE
    cap_depth: Range = CAP_DEPTH
    cap_density: Range = CAP_DENSITY
    class_ambiguity: float = 0.0
    contrast: float = 1.0
    illumination: float = 1.0
    blur_nm: float = 1.2
    dose: float = 1500.0
    read_noise: float = 1.2
    binning: int = 2
    edge_virions: bool = True
    noise: bool = True
    texture: bool = True
    pixel_size_nm: Optional[float] = None

    def __post_init__(self) -> None:
        validate_params(self)

    @property
    def nm_per_px(self) -> float:
        """The image's pixel size in nm: what every physical length is drawn at."""
        if self.pixel_size_nm is not None:
            return float(self.pixel_size_nm)
        return nm_per_pixel(self.magnification)

    @property
    def scale_magnification(self) -> float:
        """The magnification giving :attr:`nm_per_px` at the reference calibration (equal to
        ``magnification`` when no pixel size is set)."""
        if self.pixel_size_nm is None:
            return self.magnification
        return magnification_from_pixel_size(self.pixel_size_nm)


@dataclass(frozen=True, eq=False)
class SimulatedMicrograph:
    """A simulated micrograph: ``image`` (H, W) uint8 and the exact virion ``boxes`` (image px,
    clipped to the image, never inside the info band, which starts at row ``band_top``)."""

    image: np.ndarray
    boxes: list[Box]
    params: SimulationParams
    band_top: int
    distractors: dict[str, int]

    @property
    def counts(self) -> dict[str, int]:
        """Ground-truth virion counts per class name."""
        return count_by_class(self.boxes, DEFAULT_SCHEME)

    @property
    def magnification(self) -> float:
        return self.params.magnification

    @property
    def nm_per_px(self) -> float:
        return self.params.nm_per_px


def preset_params(preset: str, **overrides) -> SimulationParams:
    """Parameters for a named preset, with any :class:`SimulationParams` field overridden."""
    if preset not in PRESETS:
        raise TemnetError(f"unknown simulator preset {preset!r} "
                          f"(choose from {', '.join(PRESETS)})")
    known = {f.name for f in fields(SimulationParams)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TemnetError(f"unknown simulation setting(s): {', '.join(unknown)}")
    p = PRESETS[preset]
    values = {"class_mix": dict(p.class_mix), **p.knobs, **overrides}
    return SimulationParams(**values)


def simulate(params: SimulationParams) -> SimulatedMicrograph:
    """Render one micrograph. Same ``params`` (including ``seed``) -> identical bytes."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(params.seed).spawn(5)]
    r_layout, r_background, r_beam, r_camera, r_levels = streams
    w, h, b = params.width, params.height, params.binning
    nm = params.nm_per_px
    band_top = h - band_height(h) if params.info_band else h
    shape_c = (-(-h // b), -(-w // b))
    camera_nm = nm * b
    if params.texture:
        density, debris, grain = specimen_background(r_background, shape_c, camera_nm,
                                                     params.debris)
        density *= np.float32(params.contrast)
    else:
        density, debris, grain = np.zeros(shape_c, dtype=np.float32), None, None
    occupancy = np.zeros(shape_c, dtype=np.float32) if debris is not None else None
    canvas = Canvas(density, grain, b, nm, occupancy)
    names = [n for n in DEFAULT_SCHEME.names]
    mix = _normalised_mix(params.class_mix)
    layout = plan_layout(
        r_layout, width=w, height=band_top, magnification=params.scale_magnification,
        nm_per_px=nm,
        n_virions=_virion_count(r_layout, params, w * band_top * (nm / 1000.0) ** 2),
        class_names=names, class_probs=[mix[n] for n in names],
        class_ids=[DEFAULT_SCHEME.id(n) for n in names], distractors=params.distractors,
        contrast=params.contrast, edge_virions=params.edge_virions, flocs=params.flocs,
        ambiguity=params.class_ambiguity, cap_size=as_range(params.cap_size),
        cap_depth=as_range(params.cap_depth), cap_density=as_range(params.cap_density))
    for spec in (*layout.caps, *layout.vesicles, *layout.virions):
        draw_particle(canvas, spec)
    for frag in layout.fragments:
        draw_fragment(canvas, frag)
    for speck in layout.specks:
        draw_speck(canvas, speck)
    if debris is not None:  # debris fills the section only where no particle is
        occupancy -= 1.0
        occupancy *= np.float32(-params.contrast)
        debris *= occupancy
        canvas.density += debris
    beam = illumination(r_beam, shape_c, camera_nm, params.illumination)
    signal = expose(canvas.density, beam, r_camera, blur_px=params.blur_nm / camera_nm,
                    dose=params.dose, noise=params.noise)
    background = float(r_levels.uniform(180.0, 196.0))
    black = float(r_levels.uniform(12.0, 28.0))
    grey = to_grey(signal, r_camera, background=background, black=black,
                   read_noise=params.read_noise, noise=params.noise)
    image = upsample_grey(grey, b, (h, w))
    if params.info_band:
        stamp = _stamp(r_levels)
        draw_info_band(image, band_top, file_name=params.file_name or f"sim_{params.seed}.tif",
                       magnification=params.magnification, nm_per_px=nm, stamp=stamp)
    return SimulatedMicrograph(image, list(layout.labels), params, band_top,
                               layout.distractor_counts())


def derived_seed(seed: int, index: int) -> int:
    """The seed of micrograph ``index`` of a set started with ``seed`` (stable, 63-bit)."""
    state = np.random.SeedSequence([int(seed), int(index)]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def tiff_description(magnification: float, nm_per_px: Optional[float] = None) -> str:
    """ImageDescription of simulated TIFFs: the microscope's wording, which readers parse
    (the pixel size defaults to the magnification's at the reference calibration)."""
    nm = nm_per_pixel(magnification) if nm_per_px is None else nm_per_px
    return (f"TEMNet Studio simulated micrograph\nDirect Mag: {magnification:.0f}x\n"
            f"Cal: {nm:.5g} nm/pix")


def write_tiff(path: Union[str, Path], sim: SimulatedMicrograph) -> Path:
    """Write ``sim.image`` as an uncompressed 8-bit TIFF with magnification and pixel size
    (description text and resolution tags in pixels per cm), atomically."""
    import tifffile

    from temnet_app.core.atomic import atomic_path

    path = Path(path)
    per_cm = 1e7 / sim.nm_per_px
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, sim.image, photometric="minisblack", metadata=None,
                         description=tiff_description(sim.magnification, sim.nm_per_px),
                         resolution=(per_cm, per_cm), resolutionunit="CENTIMETER",
                         software="TEMNet Studio simulator")
    return path


def simulate_set(out_dir: Union[str, Path], n: int, preset: str = "dataset",
                 magnification: float = DEFAULT_MAGNIFICATION, seed: int = 0, *,
                 progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
                 **overrides) -> list[Path]:
    """Write ``n`` micrographs ``sim_<preset>_<seed>_<index:03d>.tif`` into ``out_dir`` and one
    VIA CSV ``annotations.csv`` with all their boxes; return the TIFF paths.

    Micrograph ``i`` uses :func:`derived_seed` ``(seed, i)``, so a set is reproducible and its
    first images do not change when ``n`` grows. ``overrides`` are SimulationParams fields.
    """
    from temnet_app.core.annotations import write_via_csv

    progress = progress or no_progress
    if int(n) < 1:
        raise TemnetError(f"number of micrographs must be at least 1, not {n}")
    if int(seed) < 0:
        raise TemnetError(f"seed must be a non-negative integer, not {seed}")
    check_magnification_or_fail(magnification)
    base = preset_params(preset, magnification=magnification, seed=0, **overrides)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TemnetError(f"cannot create output folder {out}: {exc.strerror or exc}") from None
    tag = re.sub(r"[^A-Za-z0-9.-]+", "_", preset)
    paths: list[Path] = []
    boxes: dict[str, list[Box]] = {}
    sizes: dict[str, int] = {}
    for i in range(int(n)):
        check_cancel(cancel)
        name = f"sim_{tag}_{int(seed)}_{i:03d}.tif"
        progress(i / n, f"simulating {name}")
        sim = simulate(replace(base, seed=derived_seed(seed, i), file_name=name))
        try:
            path = write_tiff(out / name, sim)
        except OSError as exc:
            raise TemnetError(f"cannot write {out / name}: {exc.strerror or exc}") from None
        paths.append(path)
        boxes[name] = sim.boxes
        sizes[name] = path.stat().st_size
    write_via_csv(out / "annotations.csv", boxes, DEFAULT_SCHEME, file_sizes=sizes)
    progress(1.0, f"wrote {len(paths)} micrographs and annotations.csv to {out}")
    return paths


def _virion_count(rng: np.random.Generator, params: SimulationParams, area_um2: float) -> int:
    if params.count is not None:
        lo, hi = as_range(params.count)
        return int(rng.integers(int(lo), int(hi) + 1))
    lo, hi = as_range(params.density)
    return int(round(rng.uniform(lo, hi) * area_um2)) if hi > lo else int(round(lo * area_um2))


def _normalised_mix(mix: Mapping[str, float]) -> dict[str, float]:
    clean = {DEFAULT_SCHEME.name(DEFAULT_SCHEME.id(k)): float(v) for k, v in mix.items()}
    total = sum(clean.values())
    return {n: clean.get(n, 0.0) / total for n in DEFAULT_SCHEME.names}


def _stamp(rng: np.random.Generator) -> str:
    return (f"{int(rng.integers(8, 18)):02d}:{int(rng.integers(0, 60)):02d} "
            f"{int(rng.integers(1, 13)):02d}/{int(rng.integers(1, 29)):02d}/"
            f"{int(rng.integers(18, 24)):02d}")
