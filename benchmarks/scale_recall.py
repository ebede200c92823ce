"""Recall when the scale comes from a file's pixel size vs from its nominal magnification.

Simulates ``--n`` 4,000 x 2,620 px micrographs (seeds from ``--seed``) whose TIFFs say
``Direct Mag: 30000x`` but whose pixels are ``--pixel-size`` nm (default 0.28: a camera finer
than the reference one; 1.122 is a half-size export of a 30,000x image), written as TIFF with
that text and a matching resolution tag. Then runs the model through ``jobs.predict_files``
twice on the same files: with the scale as the files resolve it (the pixel size decides) and
with ``--magnification 30000`` forced (what the program did before pixel size decided: 0.561
nm/px). Prints, for each, class-agnostic recall and precision at IoU 0.5 and confidence >=
``--threshold``, class-aware mAP@0.5, and the mean detected box side vs the true one.

Run: ``python benchmarks/scale_recall.py [--pixel-size 0.28] [--n 6] [--model DIR]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from temnet_app.core.analysis import evaluate
from temnet_app.core.boxes import Box, Detection
from temnet_app.simulator import derived_seed, preset_params, simulate
from temnet_app.simulator.simulate import write_tiff


def _agnostic(items):
    """The same boxes, all in class 1."""
    out = []
    for b in items:
        if isinstance(b, Detection):
            out.append(Detection(b.x1, b.y1, b.x2, b.y2, 1, b.score))
        else:
            out.append(Box(b.x1, b.y1, b.x2, b.y2, 1))
    return out


def score(results, truths, threshold):
    """(class-agnostic recall, precision, class-aware mAP, mean detected side px)."""
    predictions = {r.name: r.detections for r in results}
    aware = evaluate(predictions, truths, (1, 2, 3), score_threshold=threshold)
    agnostic = evaluate({k: _agnostic(v) for k, v in predictions.items()},
                        {k: _agnostic(v) for k, v in truths.items()}, (1,),
                        score_threshold=threshold)
    sides = [(d.x2 - d.x1 + d.y2 - d.y1) / 2 for r in results for d in r.detections
             if d.score >= threshold]
    return (agnostic.overall.recall, agnostic.overall.precision, aware.overall.map,
            float(np.median(sides)) if sides else float("nan"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixel-size", type=float, default=0.28)
    parser.add_argument("--n", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7100)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")     # TensorFlow's C++ log lines
    from temnet_app.detector import Detector
    from temnet_app.jobs import predict_files, resolve_model_dir

    detector = Detector.load(resolve_model_dir(args.model))
    with tempfile.TemporaryDirectory(prefix="temnet-scale-") as folder:
        paths, truths = [], {}
        for i in range(args.n):
            sim = simulate(preset_params("dataset", magnification=30000.0,
                                         pixel_size_nm=args.pixel_size,
                                         seed=derived_seed(args.seed, i)))
            path = write_tiff(Path(folder) / f"px_{i:02d}.tif", sim)
            paths.append(path)
            truths[path.name] = sim.boxes
        n_true = sum(len(v) for v in truths.values())
        true_side = np.median([(b.x2 - b.x1 + b.y2 - b.y1) / 2 for v in truths.values()
                               for b in v])
        print(f"{args.n} micrographs at {args.pixel_size} nm/px labelled 'Direct Mag: 30000x', "
              f"{n_true} virions, true median box side {true_side:.0f} px; model "
              f"{detector.model_id}, threshold {args.threshold}")
        print(f"{'scale from':<34}{'nm/px used':>11}{'recall':>8}{'precision':>10}"
              f"{'mAP@0.5':>9}{'median side':>13}")
        for label, kwargs in (("the file's pixel size (now)", {}),
                              ("the magnification 30,000x (before)",
                               {"magnification": 30000.0})):
            results = predict_files(paths, detector, **kwargs)
            used = results[0].pixel_size_nm
            recall, precision, mean_ap, side = score(results, truths, args.threshold)
            print(f"{label:<34}{used:>11.3f}{recall * 100:>7.1f}%{precision * 100:>9.1f}%"
                  f"{mean_ap * 100:>9.1f}{side:>10.0f} px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
