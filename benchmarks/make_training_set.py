"""Simulate the data the shipped model learned from, and its 13 held-out test micrographs.

    python benchmarks/make_training_set.py OUT_DIR
    temnet train --data OUT_DIR/train --out models/temnet-gn-synthetic --epochs 20 \
        --steps-per-epoch 80 --validation-fraction 0.1 --name temnet-gn-synthetic
    temnet evaluate --images OUT_DIR/test13 --labels OUT_DIR/test13/annotations.csv \
        --model models/temnet-gn-synthetic

Training set: 68 micrographs of 4000 x 2620 px, 7 per preset at 30,000x (8 presets) plus 2 each
of three presets at 25,000x and at 20,000x. Test set: 13 micrographs of the ``dataset`` preset at
30,000x with a seed no training micrograph uses. (The shipped model was trained in two runs of
12 and then 20 epochs with ``--resume``; its model card records both commands.)
"""

import argparse
from pathlib import Path

from temnet_app.simulator import simulate_set

PRESETS_30K = ("WT", "PR-D25A", "IN-D116N", "IN-N184L", "delIN", "IN-E96A", "ALLINI-BI-D",
               "dataset")
PRESETS_LOW_MAG = ("dataset", "IN-E96A", "WT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write train/ and test13/ into")
    out = parser.parse_args().out
    train = out / "train"
    for k, preset in enumerate(PRESETS_30K):
        simulate_set(train / f"{preset}_30k", 7, preset, 30000.0, seed=100 + k)
    for k, preset in enumerate(PRESETS_LOW_MAG):
        simulate_set(train / f"{preset}_25k", 2, preset, 25000.0, seed=200 + k)
        simulate_set(train / f"{preset}_20k", 2, preset, 20000.0, seed=300 + k)
    simulate_set(out / "test13", 13, "dataset", 30000.0, seed=9001)
    print(f"wrote {train} (68 micrographs) and {out / 'test13'} (13 micrographs)")


if __name__ == "__main__":
    main()
