"""Sanity figures for the micrograph simulator: speed and what it puts in the images.

Simulates 20 micrographs at the default size (4,000 x 2,620 px, 30,000x) over mixed presets and
prints the seconds per micrograph (median), virions per image, class mix per preset against the
preset's intended mix, and box-size percentiles per class next to the measured virion table
(``virion_sizes.csv``; its embedded copy when the shared folder is absent).

Run: ``python benchmarks/simulator_sanity.py [--n 20] [--seed 0] [--example
docs/simulated_example.png]`` (``--example`` also writes the documentation figure: a whole
simulated micrograph, downsampled, over full-resolution crops of one virion of each class with its
label box).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np

from temnet_app.core.boxes import DEFAULT_SCHEME
from temnet_app.simulator import PRESETS, derived_seed, measured_sizes, preset_params, simulate

BENCH_PRESETS = ("WT", "PR-D25A", "IN-D116N", "delIN", "ALLINI-BI-D", "dataset")
PERCENTILES = (1, 25, 50, 75, 99)
CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "virion_sizes.csv"


def measured_table() -> tuple[dict[str, np.ndarray], str]:
    """Per class an (N, 2) array of measured (width, height) px at 30,000x, and its source."""
    if CSV.is_file():
        import pandas as pd

        table = pd.read_csv(CSV)
        return ({name: table.loc[table.morphology == name, ["box_width_px", "box_length_px"]]
                 .to_numpy(float) for name in DEFAULT_SCHEME.names}, str(CSV))
    return ({name: measured_sizes(name) for name in DEFAULT_SCHEME.names},
            "embedded copy (temnet_app/simulator/sizes.py)")


def row(label: str, values: np.ndarray) -> str:
    cells = " ".join(f"{v:7.1f}" for v in np.percentile(values, PERCENTILES))
    return f"    {label:22s} {cells}   (n={len(values)})"


def write_example(path: Path, preset: str = "dataset", seed: int = 2021) -> None:
    """The documentation figure (PNG, atomically)."""
    from PIL import Image, ImageDraw, ImageFont

    from temnet_app.core.atomic import atomic_path

    sim = simulate(preset_params(preset, seed=seed, info_band=True,
                                 file_name=f"sim_{preset}_{seed}.tif"))
    h, w = sim.image.shape
    width = 1200
    whole = Image.fromarray(sim.image).resize((width, round(h * width / w)), Image.LANCZOS)
    crop, gap, label_h = 390, 15, 34
    figure = Image.new("RGB", (width, whole.height + label_h + crop + label_h), "white")
    figure.paste(whole.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(figure)
    font = ImageFont.load_default(size=20)
    draw.text((8, whole.height + 6), f"simulated 4000 x 2620 px micrograph at 30,000x "
              f"(preset {preset!r}, seed {seed}), shown at 1/{w / width:.2f} scale; "
              f"{len(sim.boxes)} labelled virions", fill="black", font=font)
    top = whole.height + label_h
    for i, class_id in enumerate((2, 3, 1)):  # mature, immature, eccentric
        name = DEFAULT_SCHEME.name(class_id)
        cx, cy = w / 2, sim.band_top / 2
        whole_boxes = [b for b in sim.boxes if b.class_id == class_id and b.x1 > crop
                       and b.y1 > crop and b.x2 < w - crop and b.y2 < sim.band_top - crop]
        box = min(whole_boxes, key=lambda b: (b.center[0] - cx) ** 2 + (b.center[1] - cy) ** 2)
        x0, y0 = int(box.center[0] - crop / 2), int(box.center[1] - crop / 2)
        tile = Image.fromarray(sim.image[y0:y0 + crop, x0:x0 + crop]).convert("RGB")
        ImageDraw.Draw(tile).rectangle([box.x1 - x0, box.y1 - y0, box.x2 - x0, box.y2 - y0],
                                       outline=DEFAULT_SCHEME.colour(class_id), width=2)
        left = i * (crop + gap)
        figure.paste(tile, (left, top))
        draw.text((left + 4, top + crop + 6), f"{name} (full resolution, label box)",
                  fill="black", font=font)
    with atomic_path(path) as tmp:
        figure.save(tmp, format="PNG", optimize=True)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--example", type=Path, help="also write the example figure here")
    args = parser.parse_args()
    if args.example:
        write_example(args.example)
    if args.n < 1:
        return

    seconds, per_image = [], []
    by_preset: dict[str, Counter] = {p: Counter() for p in BENCH_PRESETS}
    whole: dict[int, list] = {i: [] for i in DEFAULT_SCHEME.ids}
    clipped = 0
    distractors = Counter()
    for i in range(args.n):
        preset = BENCH_PRESETS[i % len(BENCH_PRESETS)]
        params = preset_params(preset, seed=derived_seed(args.seed, i))
        start = time.perf_counter()
        sim = simulate(params)
        seconds.append(time.perf_counter() - start)
        per_image.append(len(sim.boxes))
        distractors.update(sim.distractors)
        for b in sim.boxes:
            by_preset[preset][b.class_id] += 1
            if b.x1 <= 0 or b.y1 <= 0 or b.x2 >= params.width or b.y2 >= sim.band_top:
                clipped += 1  # cut by the image edge: not a whole-virion size
            else:
                whole[b.class_id].append((b.width, b.height))

    print(f"simulated {args.n} micrographs of 4000 x 2620 px at 30,000x "
          f"(presets {', '.join(BENCH_PRESETS)})")
    print(f"seconds per micrograph: median {statistics.median(seconds):.2f}, "
          f"min {min(seconds):.2f}, max {max(seconds):.2f}")
    print(f"virions per image: min {min(per_image)}, median {statistics.median(per_image):g}, "
          f"max {max(per_image)}; {clipped} of {sum(per_image)} boxes cut by the image edge")
    print("unlabelled distractors per image (mean): " + ", ".join(
        f"{k} {v / args.n:.1f}" for k, v in distractors.items()))
    print()
    print("class mix: simulated (intended)")
    total = Counter()
    for preset, counts in by_preset.items():
        total.update(counts)
        n = sum(counts.values())
        cells = "  ".join(
            f"{name} {counts[DEFAULT_SCHEME.id(name)] / max(n, 1):5.1%} "
            f"({PRESETS[preset].class_mix.get(name, 0):5.1%})" for name in DEFAULT_SCHEME.names)
        print(f"  {preset:12s} n={n:4d}  {cells}")
    n = sum(total.values())
    print(f"  {'all':12s} n={n:4d}  " + "  ".join(
        f"{name} {total[DEFAULT_SCHEME.id(name)] / n:5.1%}" for name in DEFAULT_SCHEME.names))
    print()
    table, source = measured_table()
    print(f"box sizes in px at 30,000x, percentiles {PERCENTILES} "
          f"(simulated: whole boxes only; measured: {source})")
    for class_id in DEFAULT_SCHEME.ids:
        name = DEFAULT_SCHEME.name(class_id)
        sim_wh = np.array(whole[class_id]).reshape(-1, 2)
        real_wh = table[name]
        print(f"  {name}")
        for label, column in (("sqrt(w*h)", None), ("w", 0), ("h", 1)):
            def pick(wh):
                return np.sqrt(wh[:, 0] * wh[:, 1]) if column is None else wh[:, column]
            if len(sim_wh):
                print(row(f"{label} simulated", pick(sim_wh)))
            print(row(f"{label} measured", pick(real_wh)))


if __name__ == "__main__":
    main()
