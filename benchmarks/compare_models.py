"""Side-by-side held-out scores of trained models, e.g. two training schedules.

Runs every model over the same labelled micrographs once (each model's own tiling mode) and
prints, per model: mAP@0.5 with per-class AP, precision / recall / F1 at confidence 0.5 and 0.9,
and from the model card the schedule, epochs per stage, best epoch, best validation loss and
training wall time. Detection runs one model after the other in this process.

    python benchmarks/make_training_set.py DATA
    python benchmarks/compare_models.py --images DATA/test13 \
        --labels DATA/test13/annotations.csv MODEL_DIR [MODEL_DIR ...]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path


def _pct(value: float) -> str:
    return "   -" if value != value else f"{100 * value:5.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="model folders")
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    args = parser.parse_args()

    from temnet_app.core.analysis import evaluate
    from temnet_app.core.annotations import read_via_csv
    from temnet_app.core.micrographs import read_micrograph
    from temnet_app.core.scale import resolve_scale
    from temnet_app.detector import Detector

    rows = []
    for folder in args.models:
        detector = Detector.load(folder)
        scheme = detector.scheme
        truths = read_via_csv(args.labels, scheme=scheme)
        began = time.monotonic()
        predictions = {}
        for name in truths:
            image = read_micrograph(args.images / name)
            scale = resolve_scale(file_pixel_size=image.info.pixel_size_nm,
                                  file_magnification=image.info.magnification)
            predictions[name] = detector.detect(image.pixels,
                                                pixel_size_nm=scale.pixel_size_nm)
        seconds = time.monotonic() - began
        run = detector.card.get("training_run", {})
        settings = run.get("settings", {})
        stages = Counter(h["stage"] for h in run.get("history", []))
        print(f"\n== {folder}  ({settings.get('schedule', '?')}; epochs per stage "
              f"{dict(stages)}; best epoch {run.get('best_epoch')} val loss "
              f"{run.get('best_val_loss')}; training wall time "
              f"{run.get('wall_time_s', float('nan')) / 60:.1f} min; detection "
              f"{seconds / len(truths):.2f} s per micrograph)")
        for threshold in (0.5, 0.9):
            ev = evaluate(predictions, truths, scheme.ids, iou_threshold=0.5,
                          score_threshold=threshold)
            o = ev.overall
            per_class = "  ".join(f"{scheme.name(c)} AP {_pct(m.ap)}"
                                  for c, m in ev.per_class.items())
            print(f"  conf >= {threshold:g}: mAP@0.5 {_pct(o.map)}  P {_pct(o.precision)}  "
                  f"R {_pct(o.recall)}  F1 {_pct(o.f1)}  | {per_class}")
            rows.append((folder.name, threshold, o.map, o.f1))
    print("\nmodel                              conf   mAP@0.5   F1")
    for name, threshold, m, f1 in rows:
        print(f"{name:<34}{threshold:>5g}{_pct(m):>10}{_pct(f1):>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
