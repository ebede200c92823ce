"""``temnet detect PROJECT``: run the detector over a project's micrographs and store the run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from temnet_app.commands._common import (add_flips_argument, add_mode_argument, add_model_argument,
                                         whole_number)

HELP = "detect and classify virions in every micrograph of a project (or one experiment)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project file (*.temnet)")
    add_model_argument(parser)
    parser.add_argument("--experiment", default=None,
                        help="only this experiment (by name); default: all experiments")
    parser.add_argument("--micrograph", action="append", default=None, metavar="FILE",
                        help="only this micrograph (its file name, or experiment/file name); "
                             "repeat for several")
    parser.add_argument("--resume", type=whole_number(1), default=None, metavar="RUN",
                        help="continue detection run RUN, skipping micrographs it already holds")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=whole_number(1, 512), default=None, metavar="N",
                         help="detect on a local Dask cluster of N worker processes (needs "
                              "the cluster extra)")
    cluster.add_argument("--scheduler", default=None, metavar="ADDRESS",
                         help="detect on an existing Dask cluster, e.g. tcp://host:8786 "
                              "(workers must see the micrographs' folders, or get the bytes)")
    add_mode_argument(parser)
    add_flips_argument(parser)


def run(args: argparse.Namespace) -> int:
    from temnet_app.commands._common import TextProgress
    from temnet_app.core.errors import ProjectError
    from temnet_app.core.project import Project
    from temnet_app.jobs import load_detector, resolve_model_dir, run_detection

    with Project.open(args.project) as project:
        if args.experiment is not None:
            experiment = project.experiment_by_name(args.experiment)
            if experiment is None:
                names = ", ".join(e.name for e in project.experiments()) or "none"
                raise ProjectError(f"no experiment named {args.experiment!r} in "
                                   f"{args.project} (experiments: {names})")
            micrographs = project.micrographs(experiment.id)
            where = f"experiment {experiment.name!r}"
        else:
            micrographs = project.micrographs()
            where = f"project {args.project}"
        if args.micrograph:
            micrographs = pick_micrographs(project, micrographs, args.micrograph)
            where += f", {len(micrographs)} chosen"
        if not micrographs:
            raise ProjectError(f"no micrographs in {where}: add a folder of micrographs first")
        # what would be refused later fails fast, before TensorFlow loads
        if project.read_only:
            raise ProjectError(f"cannot run detection: project {args.project} is open "
                               f"read-only ({project.read_only})")
        if args.resume is not None:
            earlier = project.run(args.resume)
            if earlier.status == "running" and earlier.owner:
                raise ProjectError(f"run #{earlier.id} is being run by {earlier.owner}; wait "
                                   f"for it to finish or cancel it there")
        model_dir = resolve_model_dir(args.model)
        if args.workers or args.scheduler:
            summary = _on_cluster(args, project, micrographs, model_dir, where)
        else:
            detector = load_detector(model_dir, args.mode, args.flips)
            print(f"model {detector.model_id} on {detector.device}; {len(micrographs)} "
                  f"micrograph(s) in {where}", file=sys.stderr)
            bar = TextProgress()
            try:
                summary = run_detection(project, micrographs, detector, progress=bar,
                                        skip_done_run=args.resume)
            finally:
                bar.close()
    for item in summary.skipped:
        print(f"skipped {item.name}: {item.reason}", file=sys.stderr)
    for line in summary.scale_messages():
        print(f"warning: {line} Set it in the window (Project > Set scale…) or give "
              f"--magnification / --pixel-size when adding the micrographs.", file=sys.stderr)
    print(f"run #{summary.run_id} {summary.status}: {len(summary.processed)} micrograph(s) "
          f"processed, {len(summary.already_done)} already done, {len(summary.skipped)} skipped, "
          f"{summary.n_detections} detections in {summary.seconds:.1f} s")
    if summary.status == "failed":
        return 2
    return 1 if summary.skipped else 0


def _on_cluster(args, project, micrographs, model_dir, where):
    """Detection by Dask workers (TensorFlow loads on them, not here)."""
    from temnet_app.commands._common import TextProgress
    from temnet_app.jobs.cluster import open_client, run_detection_on_cluster

    client, cluster = open_client(args.workers, args.scheduler)
    try:
        n = len(client.scheduler_info().get("workers", {}))
        print(f"Dask cluster {client.scheduler.address} with {n} worker(s); "
              f"{len(micrographs)} micrograph(s) in {where}", file=sys.stderr)
        bar = TextProgress()
        try:
            return run_detection_on_cluster(project, micrographs, client, model_dir,
                                            args.mode, progress=bar,
                                            skip_done_run=args.resume, flips=args.flips)
        finally:
            bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def pick_micrographs(project, micrographs, wanted):
    """The micrographs named in ``wanted`` ("file.tif" or "Experiment/file.tif"), in the
    given order; ProjectError for a name that matches none, or several."""
    from temnet_app.core.errors import ProjectError

    names = {e.id: e.name for e in project.experiments()}
    chosen = []
    for text in wanted:
        experiment, _, file = text.rpartition("/")
        found = [m for m in micrographs if m.name.lower() == file.lower()
                 and (not experiment or names[m.experiment_id].lower() == experiment.lower())]
        if not found:
            raise ProjectError(f"no micrograph {text!r} in the project")
        if len(found) > 1:
            raise ProjectError(f"{text!r} names {len(found)} micrographs; write it as "
                               f"EXPERIMENT/{file}")
        chosen.append(found[0])
    return chosen
