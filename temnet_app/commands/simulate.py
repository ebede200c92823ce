"""``temnet simulate``: write simulated TEM micrographs of HIV-1 with exact labels."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "write simulated HIV-1 TEM micrographs with exact labels (8-bit TIFFs + VIA CSV)"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="output folder (created if missing)")
    parser.add_argument("--n", type=_positive_int, default=1,
                        help="number of micrographs (default 1)")
    parser.add_argument("--preset", default="dataset",
                        help="experimental condition, e.g. WT, PR-D25A, IN-D116N "
                             "(default: dataset; see --list-presets)")
    parser.add_argument("--magnification", type=_number, default=30000.0,
                        help="direct magnification (default 30000; 0.561 nm/px at 30,000x)")
    parser.add_argument("--pixel-size", type=_number, default=None, metavar="NM",
                        help="pixel size in nm (default: the magnification's at the reference "
                             "calibration); e.g. --magnification 30000 --pixel-size 0.28 for "
                             "a camera finer than the reference one")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed; the same seed gives the same files (default 0)")
    parser.add_argument("--width", type=_positive_int, help="image width in pixels (default 4000)")
    parser.add_argument("--height", type=_positive_int,
                        help="image height in pixels (default 2620)")
    parser.add_argument("--density", type=_number,
                        help="labelled virions per square micrometre (default: 10-30, "
                             "drawn per micrograph)")
    parser.add_argument("--info-band", action="store_true",
                        help="add the microscope's white info band at the bottom")
    parser.add_argument("--list-presets", action="store_true",
                        help="list the presets and their class mixes, then exit")


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.annotations import read_via_csv
    from temnet_app.core.boxes import count_by_class
    from temnet_app.core.errors import TemnetError
    from temnet_app.simulator import PRESETS, simulate_set

    if args.list_presets:
        for name, preset in PRESETS.items():
            mix = ", ".join(f"{k} {v:.0%}" for k, v in preset.class_mix.items() if v > 0)
            print(f"{name:12s} {mix:45s} {preset.description}")
        return 0
    if args.out is None:
        raise TemnetError("--out is required (the folder to write the micrographs to)")
    if args.seed < 0:
        raise TemnetError(f"--seed must be a non-negative integer, not {args.seed}")
    overrides = {"info_band": bool(args.info_band)}
    if args.pixel_size is not None:
        overrides["pixel_size_nm"] = args.pixel_size
    for name in ("width", "height", "density"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction * 100:5.1f}%] {message}", file=sys.stderr, flush=True)

    paths = simulate_set(args.out, args.n, args.preset, args.magnification, args.seed,
                         progress=progress, **overrides)
    csv_path = Path(args.out) / "annotations.csv"
    labels = read_via_csv(csv_path)
    for path in paths:
        counts = count_by_class(labels.get(path.name, []))
        detail = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"{path}: {sum(counts.values())} virions ({detail})")
    print(f"{csv_path}: labels of {len(paths)} micrograph(s)")
    return 0
