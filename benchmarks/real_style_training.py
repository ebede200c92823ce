"""A real-style training benchmark that runs here: simulated micrographs with a strong shift of
appearance from the shipped model's training data (low contrast, soft focus, low dose, uneven
beam, three times the debris, crowded), each micrograph drawn with its own appearance.

    python benchmarks/real_style_training.py OUT_DIR          # OUT_DIR/train, OUT_DIR/val
    temnet train --data OUT_DIR --out models/rs --time-limit 30 ...   # the run to compare
    temnet evaluate --images OUT_DIR/val --labels OUT_DIR/val/annotations.csv --model models/rs

Train: 24 micrographs of 2000 x 1310 px (a quarter of a 4000 x 2620 frame) at 30,000x;
validation: 8 more with other seeds. Nothing here is tuned to a real micrograph: the shift is
chosen to be larger than the simulator's own variation, so what a training recipe learns about
appearance shows. Classes are the simulator's three HIV classes; ``--subtle`` also draws each
micrograph's ``class_ambiguity`` from 0.6-1.0, so eccentric and mature virions differ only
subtly (detached, paler RNP blobs; off-centre, half-empty cores) and many sit in between:

    python benchmarks/real_style_training.py --subtle OUT_DIR
"""

import argparse
from pathlib import Path

import numpy as np

from temnet_app.core.annotations import write_via_csv
from temnet_app.simulator.simulate import SimulationParams, simulate, write_tiff

SIZE = (2000, 1310)


def appearance(rng: np.random.Generator) -> dict:
    """One micrograph's appearance, far from the simulator's defaults (contrast 1, blur 1.2 nm,
    dose 1500, debris 1, distractors 1, illumination 1)."""
    return {"contrast": float(rng.uniform(0.45, 0.8)), "blur_nm": float(rng.uniform(2.0, 4.0)),
            "dose": float(rng.uniform(250.0, 700.0)), "debris": float(rng.uniform(2.5, 4.0)),
            "distractors": float(rng.uniform(2.0, 3.5)),
            "illumination": float(rng.uniform(1.0, 2.5)),
            "read_noise": float(rng.uniform(1.0, 4.0)), "binning": int(rng.choice([1, 2])),
            "density": (35.0, 60.0)}


def subtle_appearance(rng: np.random.Generator) -> dict:
    """:func:`appearance` with eccentric and mature interiors drawn towards each other."""
    return {**appearance(rng), "class_ambiguity": float(rng.uniform(0.6, 1.0))}


def write_set(folder: Path, n: int, seed: int, draw=appearance, prefix: str = "rs") -> int:
    """``n`` micrographs and their VIA CSV in ``folder``, each simulated with the settings
    ``draw(rng)`` returns (default: a real-style appearance); returns the number of
    virions."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    boxes, virions = {}, 0
    for i in range(n):
        params = SimulationParams(width=SIZE[0], height=SIZE[1], seed=seed * 1000 + i,
                                  **draw(rng))
        sim = simulate(params)
        name = f"{prefix}_{seed}_{i:03d}.tif"
        write_tiff(folder / name, sim)
        boxes[name] = sim.boxes
        virions += len(sim.boxes)
    write_via_csv(folder / "annotations.csv", boxes)
    return virions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write train/ and val/ into")
    parser.add_argument("--n-train", type=int, default=24)
    parser.add_argument("--n-val", type=int, default=8)
    parser.add_argument("--subtle", action="store_true",
                        help="eccentric and mature drawn towards an ambiguous middle")
    args = parser.parse_args()
    draw = subtle_appearance if args.subtle else appearance
    n_train = write_set(args.out / "train", args.n_train, seed=41, draw=draw)
    n_val = write_set(args.out / "val", args.n_val, seed=43, draw=draw)
    print(f"wrote {args.out / 'train'} ({args.n_train} micrographs, {n_train} virions) and "
          f"{args.out / 'val'} ({args.n_val} micrographs, {n_val} virions)")


if __name__ == "__main__":
    main()
