"""Batch throughput of project detection, serial vs overlapped (read-ahead + background
commits), each in a fresh process on the same project: micrographs per second end to end
(read + detect + commit; the model load is timed apart), and peak RSS.

    python benchmarks/throughput.py [--n 50] [--keep DIR] [--mode whole|tiled] [--workers 2]
                                    [--model temnet-gn-fast]

Also prints the commit cost per micrograph (what a cluster's client would have to do alone).
Linux (peak RSS from wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_project(folder: Path, n: int) -> Path:
    from temnet_app.core.project import Project
    from temnet_app.simulator import simulate_set

    images = folder / "WT"
    simulate_set(images, n, preset="dataset", seed=11)
    path = folder / "throughput.temnet"
    with Project.create(path) as project:
        project.add_folder(images)
    return path


def _worker_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_cluster(project_path: Path, workers: int, mode: str, model: str) -> dict:
    """Detection by a local Dask cluster; the model load (on the workers) is timed apart by
    running the settings task first."""
    from temnet_app.core.project import Project
    from temnet_app.jobs import resolve_model_dir
    from temnet_app.jobs.cluster import open_client, run_detection_on_cluster, worker_settings

    started = time.perf_counter()
    client, cluster = open_client(workers=workers)
    try:
        model_dir = str(resolve_model_dir(model).resolve())
        client.run(worker_settings, model_dir, mode)          # every worker loads the model
        loaded = time.perf_counter()
        with Project.open(project_path) as project:
            summary = run_detection_on_cluster(project, project.micrographs(), client,
                                               model_dir, mode)
        done = time.perf_counter()
        worker_mb = sum(client.run(_worker_peak_mb).values())
    finally:
        client.close()
        cluster.close()
    return {"micrographs": len(summary.processed), "load_s": loaded - started, "warm_s": 0.0,
            "batch_s": done - loaded, "per_s": len(summary.processed) / (done - loaded),
            "commit_ms": float("nan"), "detections": summary.n_detections,
            "worker_mb": worker_mb}


def measure(project_path: Path, overlap: bool, mode: str, model: str) -> dict:
    from temnet_app.core.project import Project
    from temnet_app.jobs import load_detector, run_detection

    started = time.perf_counter()
    detector = load_detector(model, mode)
    loaded = time.perf_counter()
    with Project.open(project_path) as project:
        micrographs = project.micrographs()
        detector.detect(__import__("numpy").full((512, 512), 128, "uint8"))   # warm-up trace
        warm = time.perf_counter()
        summary = run_detection(project, micrographs, detector, overlap=overlap)
        done = time.perf_counter()
        # commit cost alone: store the same detections again into a fresh run
        run = project.start_run("commit-timing@0", {}, detector.score_floor)
        costs = []
        for m in micrographs[:20]:
            found = project.detections(summary.run_id, m.id)
            t = time.perf_counter()
            project.store_detections(run.id, m.id, found)
            costs.append(time.perf_counter() - t)
        project.remove_run(run.id)
    return {"micrographs": len(summary.processed), "load_s": loaded - started,
            "warm_s": warm - loaded, "batch_s": done - warm,
            "per_s": len(summary.processed) / (done - warm),
            "commit_ms": statistics.median(costs) * 1000,
            "detections": summary.n_detections}


def run_child(args: list[str]) -> tuple[dict, float]:
    log = tempfile.TemporaryFile(mode="w+")      # TensorFlow's chatter, shown on failure only
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE,
                               stderr=log, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        log.seek(0)
        raise SystemExit(f"child failed: {args}\n{log.read()[-3000:]}")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="simulated 4000x2620 micrographs")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the project in DIR (and reuse it when DIR already holds one)")
    parser.add_argument("--mode", choices=("whole", "tiled"), default=None,
                        help="detection mode (default: the model's)")
    parser.add_argument("--model", default=None,
                        help="model folder or shipped model name (default: the default model)")
    parser.add_argument("--workers", type=int, default=2,
                        help="Dask workers for the cluster line (0: leave it out)")
    parser.add_argument("--child", choices=("make", "serial", "overlapped", "cluster"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "make":
        print(json.dumps({"project": str(make_project(args.project, args.n))}))
        return 0
    if args.child == "cluster":
        print(json.dumps(measure_cluster(args.project, args.workers, args.mode, args.model)))
        return 0
    if args.child:
        print(json.dumps(measure(args.project, args.child == "overlapped", args.mode,
                                 args.model)))
        return 0
    folder = args.keep or Path(tempfile.mkdtemp(prefix="temnet-throughput-"))
    folder.mkdir(parents=True, exist_ok=True)
    project = folder / "throughput.temnet"
    if project.is_file():          # a --keep folder from an earlier run: its micrographs again
        print(f"reusing {project}")
    else:
        run_child(["--child", "make", "--project", str(folder), "--n", str(args.n)])
    project = str(project)
    options = ["--mode", args.mode] if args.mode else []
    if args.model:
        options += ["--model", args.model]
    print(f"{args.n} simulated 4000x2620 micrographs, one process per line, same project, "
          f"model {args.model or 'default'}")
    print(f"{'path':<12}{'micrographs/s':>15}{'batch s':>9}{'model load s':>14}"
          f"{'commit ms':>11}  peak RSS (largest process)")
    kinds = ["serial", "overlapped", "serial", "overlapped"]
    if args.workers:
        kinds.append("cluster")
    for kind in kinds:
        figures, rss = run_child(["--child", kind, "--project", project, "--workers",
                                  str(args.workers), *options])
        name = f"{args.workers} workers" if kind == "cluster" else kind
        memory = f"  {rss:,.0f} MB"
        if kind == "cluster":
            memory += f" (workers together {figures['worker_mb']:,.0f} MB)"
        print(f"{name:<12}{figures['per_s']:>15.2f}{figures['batch_s']:>9.1f}"
              f"{figures['load_s']:>14.1f}{figures['commit_ms']:>11.1f}{memory}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
