"""The fine-tuning sets of ``models/temnet-gn-pellet`` (issue: real micrographs): simulated
micrographs of 2000 x 1310 px at 30,000x, 12 per part, each part its own folder and seed.

Parts:

- ``std``: the simulator's defaults (so the standard test set's accuracy is kept);
- ``flocs``: the defaults plus granular flocs (``flocs`` 1-3 per micrograph);
- ``realstyle_flocs``: the real-style benchmark's appearance (``real_style_training.py``) plus
  flocs 1-3;
- ``flocs_caps``: flocs 1-3 and 2-3.5x the out-of-section discs, drawn at 0.8-1.1 of a virion's
  size (``cap_size``) instead of 0.55-0.95: grey, virion-sized discs without a sharp membrane,
  which the real reference has and which are not virions to count;
- ``realstyle_flocs_caps``: the real-style appearance with those flocs and discs.
- ``flocs_deepcaps`` and ``realstyle_flocs_deepcaps``: as the two ``_caps`` parts, but the
  discs cut deeper into the particle and denser inside (``cap_depth`` 0.3-0.55, ``cap_density``
  2.5-6): fuller grey discs with a soft edge and a granular inside, as in the crowded middle of
  the real reference, where the simulator's default discs are almost invisible.

Version 1 of the model was temnet-gn-synthetic fine-tuned on ``std flocs realstyle_flocs``;
version 2 is version 1 fine-tuned on ``std flocs realstyle_flocs_caps flocs_caps`` (the default
parts); version 3 is version 2 fine-tuned on all but ``realstyle_flocs``; version 4 is version 3
fine-tuned on those parts with 24 micrographs in each ``deepcaps`` part (``--n 24`` in a second
run into the same folder), and version 5, shipped, is version 4 trained on, on the same set, at
half the learning rate (its model card holds the command):

    python benchmarks/make_floc_finetune_set.py OUT_DIR [--parts std flocs ...] [--n 12]
    temnet train --data OUT_DIR --out models/floc-ft --epochs 200 --time-limit 30 --seed 0 \
        --init models/temnet-gn-pellet
"""

import argparse
from pathlib import Path

from real_style_training import appearance, write_set

SEEDS = {"std": 610, "flocs": 620, "realstyle_flocs": 630, "realstyle_flocs_caps": 660,
         "flocs_caps": 670, "flocs_deepcaps": 680, "realstyle_flocs_deepcaps": 690}
DEFAULT_PARTS = ("std", "flocs", "realstyle_flocs_caps", "flocs_caps")


def draw(part: str):
    """The per-micrograph settings of one part of the set (the random draws in this order)."""
    def settings(rng) -> dict:
        extra = appearance(rng) if part.startswith("realstyle") else {}
        if part != "std":
            extra["flocs"] = float(rng.uniform(1.0, 3.0))
        if part.endswith("caps"):
            extra["distractors"] = float(rng.uniform(2.0, 3.5))
            extra["cap_size"] = (0.8, 1.1)
        if part.endswith("deepcaps"):
            extra["cap_depth"] = (0.3, 0.55)
            extra["cap_density"] = (2.5, 6.0)
        return extra
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=12, help="micrographs per part (default 12)")
    parser.add_argument("--parts", nargs="+", choices=sorted(SEEDS), default=DEFAULT_PARTS)
    args = parser.parse_args()
    for part in args.parts:
        virions = write_set(args.out / part, args.n, SEEDS[part], draw(part), part)
        print(f"{args.out / part}: {args.n} micrographs, {virions} virions")


if __name__ == "__main__":
    main()
