"""Print appearance statistics of the real reference micrograph beside simulated micrographs at
the same scale, so the simulator's differences from real data are numbers, not impressions.

    python benchmarks/real_vs_simulated.py [--seeds 4]

Real: ``../shared/reference/real_micrograph_1797001_preview.png`` (its info band removed, as
the app reads it, and inside its black frame, as the detector sees it) at its true 2.68 nm/px
(a 4.77x-downsampled 30,000x export), with our own eye labels
``benchmarks/data/reference_*.csv`` (45 clear virions, 29 ambiguous particles; made for
measuring, never used for training). Simulated: 838 x 551 px at the same pixel size, the
simulator's defaults, the real-style benchmark's appearance (``real_style_training.py``) and
the defaults with granular flocs (``flocs=2``), ``--seeds`` micrographs each (means printed).

Statistics (the same rule on every image):
- grey level: mean, standard deviation, 1st / 50th / 99th percentile (0-255);
- power spectrum of the image minus its mean: share of the (non-DC) power at periods under 10 nm
  (grain and noise), 10-40 nm (stain texture, membranes) and 40-200 nm (particles, flocs);
- membrane contrast: per virion box, 1 - (mean grey on the ring at 80-100% of the half side) /
  (mean grey just outside, 115-140%); the median over the virions;
- lumen: mean grey inside (0-60% of the half side) / just outside, median;
- density: virions (real: clear and ambiguous) per square micrometre;
- debris area: share of the area outside the (enlarged) virion boxes that is darker than 85%
  of that area's median grey after a 6 nm smoothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE = REPO.parent / "shared" / "reference" / "real_micrograph_1797001_preview.png"
PIXEL_NM = 0.561 * 30000.0 / 6285.0          # the reference's true pixel size (2.68 nm)
SIZE = (838, 551)


def read_boxes(path: Path) -> np.ndarray:
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            a = json.loads(row["region_shape_attributes"])
            rows.append([a["x"], a["y"], a["x"] + a["width"], a["y"] + a["height"]])
    return np.array(rows, float).reshape(-1, 4)


def _bands(image: np.ndarray, pixel_nm: float) -> tuple[float, float, float]:
    x = image.astype(np.float64) - image.mean()
    power = np.abs(np.fft.fft2(x)) ** 2
    fy = np.fft.fftfreq(x.shape[0])[:, None]
    fx = np.fft.fftfreq(x.shape[1])[None, :]
    period_nm = pixel_nm / np.maximum(np.hypot(fx, fy), 1e-12)
    power[0, 0] = 0.0
    total = power.sum()
    share = lambda lo, hi: float(power[(period_nm >= lo) & (period_nm < hi)].sum() / total)  # noqa: E731
    return share(0, 10), share(10, 40), share(40, 200)


def _radial(image: np.ndarray, box) -> tuple[float, float, float]:
    x1, y1, x2, y2 = box
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, ((x2 - x1) + (y2 - y1)) / 4
    r0 = int(np.ceil(1.5 * half))
    ys, xs = np.mgrid[int(cy) - r0:int(cy) + r0 + 1, int(cx) - r0:int(cx) + r0 + 1]
    inside = (ys >= 0) & (ys < image.shape[0]) & (xs >= 0) & (xs < image.shape[1])
    ys, xs = ys[inside], xs[inside]
    r = np.hypot(xs - cx, ys - cy) / half
    grey = image[ys, xs].astype(np.float64)
    ring = grey[(r >= 0.8) & (r <= 1.0)].mean()
    outside = grey[(r >= 1.15) & (r <= 1.4)].mean()
    lumen = grey[r <= 0.6].mean()
    return 1.0 - ring / outside, lumen / outside, outside


def statistics(image: np.ndarray, boxes: np.ndarray, pixel_nm: float) -> dict:
    g = image.astype(np.float64)
    fine, texture, particles = _bands(image, pixel_nm)
    radial = [_radial(image, b) for b in boxes]
    mask = np.ones(image.shape, bool)
    for x1, y1, x2, y2 in boxes:
        pad = 0.15 * (x2 - x1)
        mask[max(0, int(y1 - pad)):int(y2 + pad) + 1, max(0, int(x1 - pad)):int(x2 + pad) + 1] = 0
    smooth = ndimage.gaussian_filter(g, 6.0 / pixel_nm)
    background = np.median(smooth[mask])
    area_um2 = image.size * (pixel_nm / 1000.0) ** 2
    return {"grey mean": g.mean(), "grey sd": g.std(), "grey p1": np.percentile(g, 1),
            "grey p50": np.percentile(g, 50), "grey p99": np.percentile(g, 99),
            "power <10 nm": fine, "power 10-40 nm": texture, "power 40-200 nm": particles,
            "membrane contrast": float(np.median([r[0] for r in radial])),
            "lumen / outside": float(np.median([r[1] for r in radial])),
            "virions per um2": len(boxes) / area_um2,
            "debris area": float((smooth[mask] < 0.85 * background).mean())}


def simulated(seeds: int, style: str) -> dict:
    from temnet_app.simulator.simulate import SimulationParams, simulate

    sys.path.insert(0, str(HERE))
    from real_style_training import appearance

    rng = np.random.default_rng(11)
    rows = []
    for seed in range(seeds):
        extra = appearance(rng) if style == "real-style" else {}
        if style == "flocs":
            extra = {"flocs": 2.0}
        params = SimulationParams(width=SIZE[0], height=SIZE[1], pixel_size_nm=PIXEL_NM,
                                  seed=424_200 + seed, **extra)
        sim = simulate(params)
        boxes = np.array([[b.x1, b.y1, b.x2, b.y2] for b in sim.boxes], float).reshape(-1, 4)
        rows.append(statistics(sim.image, boxes, PIXEL_NM))
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    from temnet_app.core.micrographs import read_micrograph
    from temnet_app.core.micrographs.frame import find_frame

    # inside its black frame (4 rows on top, 2 columns a side), as the detector sees it
    full = read_micrograph(REFERENCE).pixels
    frame = find_frame(full)
    real_image = frame.inside(full)
    shift = np.array([frame.left, frame.top] * 2, float)
    limit = np.array([real_image.shape[1], real_image.shape[0]] * 2, float)
    clear, ambiguous = (np.clip(read_boxes(HERE / "data" / name) - shift, 0, limit)
                        for name in ("reference_clear_virions.csv",
                                     "reference_ambiguous_particles.csv"))
    real = statistics(real_image, clear, PIXEL_NM)
    # density and debris count every particle; contrast is measured on the clear virions
    both = statistics(real_image, np.concatenate([clear, ambiguous]), PIXEL_NM)
    real["virions per um2"], real["debris area"] = both["virions per um2"], both["debris area"]
    columns = {"real reference": real, "simulated (defaults)": simulated(args.seeds, "defaults"),
               "simulated (real-style)": simulated(args.seeds, "real-style"),
               "simulated (flocs 2)": simulated(args.seeds, "flocs")}
    print(f"{'statistic':20s}" + "".join(f"{name:>24s}" for name in columns))
    for key in real:
        print(f"{key:20s}" + "".join(f"{col[key]:24.3f}" for col in columns.values()))


if __name__ == "__main__":
    main()
