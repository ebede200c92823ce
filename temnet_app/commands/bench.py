"""``temnet bench``: seconds per micrograph for each detector preset x tiling mode.

Runs every configuration on the same simulated 4,000 x 2,620 micrograph at 30,000x (random
weights unless ``--model`` is given: speed does not depend on the weights' values), one warm-up
run then ``--repeats`` timed runs (median), each configuration in its own child process so its
peak RSS (``ru_maxrss``) is its own. Speed-ups are against the paper-faithful configuration
(1,024-px windows, FPN 256, tiled) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from temnet_app.commands._common import whole_number

HELP = "time the detector on a simulated 4000 x 2620 micrograph (presets x tiling modes)"
REFERENCE = ("paper", "tiled")
MODES = ("tiled", "whole")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=whole_number(1, 1000), default=3,
                        help="timed runs per configuration after one warm-up (default 3)")
    parser.add_argument("--presets", nargs="+", default=["compact", "paper"],
                        choices=["compact", "paper"], help="detector presets to time")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES),
                        help="tiling modes to time (default: both)")
    parser.add_argument("--model", default=None,
                        help="model folder to time (its own configuration) instead of the "
                             "presets; the paper reference is still timed")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument("--flips", action=argparse.BooleanOptionalAction, default=None,
                        help="average over mirrored copies, or not (default: each "
                             "configuration's own setting)")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)


def _micrograph(seed: int):
    """The bench image: simulated when the simulator is available, else seeded noise."""
    import numpy as np

    try:
        from temnet_app.simulator import SimulationParams, simulate
    except ImportError:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, (2620, 4000), dtype=np.uint8), "random noise"
    sim = simulate(SimulationParams(width=4000, height=2620, magnification=30000.0, seed=seed))
    return sim.image, f"simulated, {len(sim.boxes)} virions"


def _measure(spec: str, repeats: int, model_dir, seed: int, flips=None) -> dict:
    """Time one ``preset:mode`` (or ``model:mode``) in this process; returns a JSON-able dict."""
    import resource
    import statistics
    import time

    from temnet_app.detector import Detector, preset

    name, mode = spec.split(":")
    image, source = _micrograph(seed)
    detector = (Detector.load(model_dir) if name == "model"
                else Detector.from_config(preset(name), seed=0, name=name))
    windows = (len(detector.window_plan(image.shape[1], image.shape[0], 30000.0)[2])
               if mode == "tiled" else 1)
    start = time.perf_counter()
    found = detector.detect(image, 30000.0, mode=mode, flips=flips)  # warm-up (graph tracing)
    warm = time.perf_counter() - start
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        found = detector.detect(image, 30000.0, mode=mode, flips=flips)
        times.append(time.perf_counter() - start)
    return {"config": name, "mode": mode, "preset": detector.config.preset,
            "windows": windows, "median_s": statistics.median(times), "min_s": min(times),
            "max_s": max(times), "warmup_s": warm, "detections": len(found),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "device": detector.device, "image": source,
            "flips": detector.config.flip_average if flips is None else bool(flips),
            "params": detector.model.count_params()}


def _child(spec: str, args) -> dict:
    command = [sys.executable, "-m", "temnet_app", "bench", "--one", spec,
               "--repeats", str(args.repeats), "--seed", str(args.seed)]
    if args.model:
        command += ["--model", str(args.model)]
    if args.flips is not None:
        command.append("--flips" if args.flips else "--no-flips")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"config": spec.split(":")[0], "mode": spec.split(":")[1], "error": tail}
    return json.loads(lines[-1])


def _flips(row: dict) -> str:
    return f"{row['config']} {'yes' if row.get('flips') else 'no'}"


def run(args: argparse.Namespace) -> int:
    if args.one:
        print(json.dumps(_measure(args.one, args.repeats, args.model, args.seed, args.flips)),
              flush=True)
        return 0
    names = ["model"] if args.model else list(args.presets)
    specs = [f"{n}:{m}" for n in names for m in args.modes]
    reference = ":".join(REFERENCE)
    if reference not in specs:
        specs.append(reference)
    rows = []
    for spec in specs:
        print(f"timing {spec} ...", file=sys.stderr, flush=True)
        rows.append(_child(spec, args))
    ref = next((r for r in rows if f"{r['config']}:{r['mode']}" == reference
                and "error" not in r), None)
    first = next((r for r in rows if "error" not in r), {})
    print(f"micrograph: 4000 x 2620 px at 30,000x ({first.get('image', '?')}); "
          f"device {first.get('device', '?')}; median of {args.repeats} run(s) after a warm-up; "
          f"each configuration in its own process; averaged over mirrored copies: "
          f"{', '.join(sorted({_flips(r) for r in rows if 'error' not in r})) or '?'}")
    header = (f"{'config':<8} {'mode':<6} {'windows':>7} {'s/micrograph':>12} {'min':>7} "
              f"{'max':>7} {'warm-up':>8} {'peak RSS MB':>11} {'detections':>10} "
              f"{'params':>9} {'vs paper tiled':>14}")
    print(header)
    for r in rows:
        if "error" in r:
            print(f"{r['config']:<8} {r['mode']:<6} failed: {r['error']}")
            continue
        ratio = f"{ref['median_s'] / r['median_s']:.1f}x" if ref else "n/a"
        print(f"{r['config']:<8} {r['mode']:<6} {r['windows']:>7} {r['median_s']:>12.2f} "
              f"{r['min_s']:>7.2f} {r['max_s']:>7.2f} {r['warmup_s']:>8.2f} "
              f"{r['peak_rss_mb']:>11.0f} {r['detections']:>10} {r['params']:>9} {ratio:>14}")
    return 1 if any("error" in r for r in rows) else 0
