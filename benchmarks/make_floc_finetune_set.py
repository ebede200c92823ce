"""The fine-tuning set of the experiment "does the shipped model improve on real micrographs
when it sees granular flocs?" (issue: real micrographs): 36 simulated micrographs of 2000 x
1310 px at 30,000x, a third each

- ``std``: the simulator's defaults (so the standard test set's accuracy is kept);
- ``flocs``: the defaults plus granular flocs (``flocs`` 1-3 per micrograph);
- ``realstyle_flocs``: the real-style benchmark's appearance (``real_style_training.py``) plus
  flocs 1-3.

    python benchmarks/make_floc_finetune_set.py OUT_DIR
    temnet train --data OUT_DIR --out models/floc-ft --epochs 200 --time-limit 30 --seed 0
"""

import argparse
from pathlib import Path

from real_style_training import appearance, write_set


def draw(style: str):
    """The per-micrograph settings of one part of the set (the random draws in this order)."""
    def settings(rng) -> dict:
        extra = appearance(rng) if style == "realstyle_flocs" else {}
        if style != "std":
            extra["flocs"] = float(rng.uniform(1.0, 3.0))
        return extra
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=12, help="micrographs per part (default 12)")
    args = parser.parse_args()
    for k, style in enumerate(("std", "flocs", "realstyle_flocs")):
        virions = write_set(args.out / style, args.n, 610 + 10 * k, draw(style), style)
        print(f"{args.out / style}: {args.n} micrographs, {virions} virions")


if __name__ == "__main__":
    main()
