"""Morphology distributions from the detector vs the simulator's truth, per preset.

For each simulator preset, simulates ``--n`` micrographs (default 4, 4,000 x 2,620 px at
30,000x, seeds from ``--seed``, disjoint from the shipped model's training seeds), runs the
model, counts detections with confidence >= ``--threshold`` (default 0.5) per class, and
compares the class percentages with the true labels' percentages:
RMSE in percentage points (core.statistics.rmse_pp; the paper's agreement measure). Prints one
row per preset and the mean RMSE; also the detection recall and precision at IoU 0.5 with the
class, so a good RMSE from cancelling errors shows up.

Run: ``python benchmarks/preset_rmse.py [--model models/temnet-gn-synthetic] [--n 4]
[--threshold 0.5] [--seed 5000]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from temnet_app.core.analysis import evaluate, percentages, rmse_pp
from temnet_app.core.boxes import DEFAULT_SCHEME, count_by_class
from temnet_app.simulator import PRESETS, derived_seed, preset_params, simulate

BENCH_PRESETS = ("WT", "PR-D25A", "IN-D116N", "IN-N184L", "delIN", "IN-E96A", "ALLINI-BI-D")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    parser.add_argument("--n", type=int, default=4, help="micrographs per preset")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=5000)
    parser.add_argument("--magnification", type=float, default=30000.0)
    args = parser.parse_args()

    from temnet_app.detector import Detector
    from temnet_app.jobs import resolve_model_dir

    detector = Detector.load(resolve_model_dir(args.model))
    names = DEFAULT_SCHEME.names
    print(f"model {detector.model_id}; {args.n} micrograph(s) per preset at "
          f"{args.magnification:g}x; confidence >= {args.threshold:g}")
    header = (f"{'preset':<13}{'truth % ' + '/'.join(n[:3] for n in names):>26}"
              f"{'detected %':>22}{'RMSE pp':>9}{'recall':>8}{'prec.':>7}{'s/img':>7}")
    print(header)
    print("-" * len(header))
    rmses = []
    for k, preset in enumerate(BENCH_PRESETS):
        truth_counts = np.zeros(len(names))
        pred_counts = np.zeros(len(names))
        preds, truths, seconds = {}, {}, []
        for i in range(args.n):
            seed = derived_seed(args.seed + 100 * k, i)
            sim = simulate(preset_params(preset, magnification=args.magnification, seed=seed))
            began = time.perf_counter()
            found = [d for d in detector.detect(sim.image, args.magnification)
                     if d.score >= args.threshold]
            seconds.append(time.perf_counter() - began)
            truth = count_by_class(sim.boxes, DEFAULT_SCHEME)
            pred = count_by_class(found, DEFAULT_SCHEME)
            truth_counts += [truth[n] for n in names]
            pred_counts += [pred[n] for n in names]
            preds[str(i)], truths[str(i)] = found, list(sim.boxes)
        t_pct, p_pct = percentages(truth_counts), percentages(pred_counts)
        rmse = rmse_pp(p_pct, t_pct)
        rmses.append(rmse)
        ev = evaluate(preds, truths, DEFAULT_SCHEME.ids, 0.5, args.threshold)
        fmt = lambda pct: "/".join(f"{v:.0f}" for v in pct)  # noqa: E731
        print(f"{preset:<13}{fmt(t_pct):>26}{fmt(p_pct):>22}{rmse:>9.1f}"
              f"{ev.overall.recall * 100:>7.1f}%{ev.overall.precision * 100:>6.1f}%"
              f"{np.median(seconds):>7.1f}")
    print("-" * len(header))
    print(f"mean RMSE {np.nanmean(rmses):.2f} pp; max {np.nanmax(rmses):.2f} pp over "
          f"{len(BENCH_PRESETS)} presets ({', '.join(PRESETS[p].name for p in BENCH_PRESETS)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
