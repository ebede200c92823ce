"""Simulated micrographs saved as downsampled exports, like the real reference (a 30,000x
micrograph shrunk 4.77x to 838 x 551 px): does the detector lose accuracy when an image has
fewer pixels per nanometre than it was trained at and has to be enlarged back?

    python benchmarks/downsampled_exports.py OUT_DIR [--parts std flocs_deepcaps] [--n 8]
        [--factor 4.77 | --factor 2.5 6]
    temnet evaluate --images OUT_DIR/<part>_native --labels OUT_DIR/<part>_native/annotations.csv
    temnet evaluate --images OUT_DIR/<part>_export --labels OUT_DIR/<part>_export/annotations.csv

Each micrograph is simulated once (2000 x 1310 px at 30,000x, the settings of
``make_floc_finetune_set.py``'s part) and written twice: as simulated (``_native``) and shrunk by
the factor (one value, or drawn per micrograph from a range), with its magnification and pixel
size scaled alike, so the detector enlarges it back to its working scale (``_export``). The
shrinking averages the pixels under each new pixel (Pillow's box filter, as an export that
does not alias), or with ``--mixed-filters`` draws box, bilinear or Lanczos per micrograph.
"""

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from make_floc_finetune_set import SEEDS, draw
from real_style_training import SIZE

from temnet_app.core.annotations import write_via_csv
from temnet_app.core.boxes import boxes_from_arrays, boxes_to_arrays
from temnet_app.simulator.simulate import SimulationParams, simulate, write_tiff

FILTERS = {"box": Image.Resampling.BOX, "bilinear": Image.Resampling.BILINEAR,
           "lanczos": Image.Resampling.LANCZOS}
EVAL_SEED_OFFSET = 5    # parts' seeds (multiples of 10) + 5: no fine-tuning set's seed


def shrink(sim, factor: float, resample=Image.Resampling.BOX):
    """``sim`` as an export ``factor`` times smaller: image, boxes and scale."""
    h, w = sim.image.shape
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    sx, sy = size[0] / w, size[1] / h
    image = np.asarray(Image.fromarray(sim.image).resize(size, resample))
    xyxy, ids, _ = boxes_to_arrays(sim.boxes)
    boxes = boxes_from_arrays(xyxy * np.array([sx, sy, sx, sy]), ids)
    params = replace(sim.params, magnification=sim.magnification * sx,
                     pixel_size_nm=sim.nm_per_px / sx)
    return replace(sim, image=image, boxes=boxes, params=params,
                   band_top=round(sim.band_top * sy))


def write_pair(folder: Path, part: str, n: int, seed: int, factors, mixed: bool) -> int:
    """``n`` micrographs of ``part`` into ``folder/<part>_native`` and ``<part>_export``;
    returns the number of virions."""
    rng = np.random.default_rng(seed)
    pick = np.random.default_rng(seed + 1)
    settings = draw(part)
    native, export, virions = {}, {}, 0
    out_native, out_export = folder / f"{part}_native", folder / f"{part}_export"
    out_native.mkdir(parents=True, exist_ok=True)
    out_export.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        params = SimulationParams(width=SIZE[0], height=SIZE[1], seed=seed * 1000 + i,
                                  **settings(rng))
        sim = simulate(params)
        factor = float(pick.uniform(*factors)) if len(factors) == 2 else float(factors[0])
        resample = FILTERS[pick.choice(sorted(FILTERS))] if mixed else Image.Resampling.BOX
        small = shrink(sim, factor, resample)
        file = f"{part}_{seed}_{i:03d}.tif"
        write_tiff(out_native / file, sim)
        write_tiff(out_export / file, small)
        native[file], export[file] = sim.boxes, small.boxes
        virions += len(sim.boxes)
    write_via_csv(out_native / "annotations.csv", native)
    write_via_csv(out_export / "annotations.csv", export)
    return virions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--parts", nargs="+", choices=sorted(SEEDS),
                        default=["std", "flocs_deepcaps"])
    parser.add_argument("--n", type=int, default=8, help="micrographs per part (default 8)")
    parser.add_argument("--factor", type=float, nargs="+", default=[4.77],
                        help="shrink factor, or a low and high to draw from (default 4.77)")
    parser.add_argument("--mixed-filters", action="store_true")
    parser.add_argument("--seed-offset", type=int, default=EVAL_SEED_OFFSET)
    args = parser.parse_args()
    if len(args.factor) not in (1, 2) or min(args.factor) < 1:
        parser.error("--factor takes one value or a low and a high, each >= 1")
    for part in args.parts:
        virions = write_pair(args.out, part, args.n, SEEDS[part] + args.seed_offset,
                             args.factor, args.mixed_filters)
        print(f"{args.out}/{part}_native|_export: {args.n} micrographs, {virions} virions")


if __name__ == "__main__":
    main()
