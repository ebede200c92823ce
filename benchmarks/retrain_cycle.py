"""The correct-and-retrain cycle on the demo project, timed step by step (numbers printed).

1. detect all 9 demo micrographs with the shipped model;
2. score the 3 micrographs that stay untouched (the third of each experiment) against their
   exact simulator labels: mAP@0.5 before;
3. accept the detections (threshold 0.5) on the other 6 as manual boxes, then "correct" them:
   the demo's exact labels stand in for a person's corrections (a person's time is not
   measured here), and mark them reviewed;
4. fine-tune with the command the window's training dialog builds for those 6 reviewed
   micrographs (its default epochs and validation share), as a child process;
5. detect the 3 untouched micrographs again with the new model and score them: mAP after.

Run: ``python benchmarks/retrain_cycle.py [--epochs N]`` (default: the dialog's default).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from temnet_app.core.analysis import evaluate
    from temnet_app.core.boxes import Box
    from temnet_app.core.project import Project
    from temnet_app.jobs import (TrainingPlan, build_demo_project, default_epochs,
                                 default_model_dir, describe_model, detect_in_project)

    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo_project(Path(tmp) / "demo" / "demo.temnet")
        with Project.open(demo) as project:
            truth = {m.id: project.manual_boxes(m.id) for m in project.micrographs()}
            by_experiment = [project.micrographs(e.id) for e in project.experiments()]
            untouched = [ms[2].id for ms in by_experiment]
            corrected = [m.id for ms in by_experiment for m in ms[:2]]
            class_ids = project.scheme.ids

            def score(run_id: int) -> tuple[float, float]:
                predictions = {str(i): project.detections(run_id, i) for i in untouched}
                truths = {str(i): truth[i] for i in untouched}
                ev = evaluate(predictions, truths, class_ids, iou_threshold=0.5,
                              score_threshold=args.threshold)
                return ev.overall.map, ev.overall.f1

            t = time.perf_counter()
            before = detect_in_project(project, [m.id for ms in by_experiment for m in ms])
            detect_s = time.perf_counter() - t
            map_before, f1_before = score(before.run_id)
            t = time.perf_counter()
            for mid in corrected:
                accepted = [Box(d.x1, d.y1, d.x2, d.y2, d.class_id) for d in
                            project.detections(before.run_id, mid, args.threshold)]
                project.set_manual_boxes(mid, accepted)
            accept_s = time.perf_counter() - t
            changed = sum(len(truth[mid]) for mid in corrected)
            t = time.perf_counter()
            for mid in corrected:
                project.set_manual_boxes(mid, truth[mid])      # the corrections
                project.set_reviewed(mid)
            correct_s = time.perf_counter() - t
        epochs = args.epochs or default_epochs(len(corrected), fine_tune=True)
        plan = TrainingPlan(project=demo, out=demo.parent / "models" / "demo-corrected",
                            init=default_model_dir(), epochs=epochs, reviewed_only=True,
                            validation_fraction=0.2, val_map_every=0, name="demo-corrected")
        t = time.perf_counter()
        result = subprocess.run(plan.argv(), capture_output=True, text=True)
        train_s = time.perf_counter() - t
        if result.returncode != 0:
            raise SystemExit(result.stderr[-3000:])
        with Project.open(demo) as project:
            t = time.perf_counter()
            after = detect_in_project(project, untouched, plan.out)
            redetect_s = time.perf_counter() - t
            map_after, f1_after = score(after.run_id)
        card = describe_model(plan.out)
        print(f"shipped model: detect 9 micrographs {detect_s:.1f} s (with the model load)")
        print(f"3 untouched micrographs before: mAP@0.5 {map_before * 100:.1f}%, F1 at "
              f"{args.threshold:g} {f1_before * 100:.1f}%")
        print(f"accept detections on 6 micrographs: {accept_s * 1000:.0f} ms; write the "
              f"corrections ({changed} boxes, 6 transactions + reviewed marks): "
              f"{correct_s * 1000:.0f} ms")
        print(f"fine-tune ({epochs} epochs, {plan.command()}): {train_s:.0f} s; "
              f"{card.training}")
        print(f"new model: detect 3 micrographs {redetect_s:.1f} s (with the model load)")
        print(f"3 untouched micrographs after: mAP@0.5 {map_after * 100:.1f}%, F1 at "
              f"{args.threshold:g} {f1_after * 100:.1f}%")


if __name__ == "__main__":
    main()
