"""``temnet evaluate``: score the detector on labelled micrographs, in the shape of the
paper's Table 2 (mAP@0.5, precision, recall, F1 in percent, per class and overall).

Labelled micrographs are a folder with a VIA CSV (each image at the scale its CSV row's
``file_attributes`` state, else its file's) or a project's micrographs with manual boxes
(each at its scale in the project)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from temnet_app.commands._common import (add_flips_argument, add_mode_argument, add_model_argument,
                                         add_scale_arguments, threshold_arg)

HELP = "score a model on labelled micrographs (VIA CSV): mAP@0.5, precision, recall, F1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=Path, default=None,
                        help="folder holding the labelled micrographs")
    parser.add_argument("--labels", type=Path, default=None,
                        help="VGG Image Annotator CSV with the ground-truth boxes (its "
                             "file_attributes may state pixel_size_nm or magnification)")
    parser.add_argument("--project", type=Path, default=None,
                        help="instead of --images/--labels: a project's micrographs with "
                             "manual boxes, each at its scale in the project")
    parser.add_argument("--experiment", default=None, metavar="NAME",
                        help="with --project: only this experiment's micrographs")
    parser.add_argument("--reviewed-only", action="store_true",
                        help="with --project: only micrographs marked reviewed")
    add_model_argument(parser)
    parser.add_argument("--threshold", type=threshold_arg, default=0.5,
                        help="confidence threshold for precision / recall / F1 (default 0.5)")
    add_scale_arguments(parser, "every image (default: each file's calibration, else its "
                                "magnification, else 30000x)")
    add_mode_argument(parser)
    add_flips_argument(parser)


def format_table(evaluation, scheme, title: str = "") -> str:
    """Per-class and overall metrics as a fixed-width text table (percent, one decimal).

    AP uses every detection; precision, recall, F1, and the Pred column use detections with
    ``score >= threshold``; "-" marks an undefined value (e.g. AP of a class without ground
    truth, which is left out of the mAP). Below it, the class confusion matrix.
    """
    from temnet_app.commands._common import percent

    ev = evaluation
    header = (f"{'class':<12}{'mAP@0.5':>9}{'Precision':>11}{'Recall':>8}{'F1':>7}"
              f"{'GT':>7}{'Pred':>7}")
    lines = [title] if title else []
    lines += [f"IoU > {ev.iou_threshold:g}; precision / recall / F1 at confidence >= "
              f"{ev.score_threshold:g}", header, "-" * len(header)]
    for class_id, m in ev.per_class.items():
        lines.append(f"{scheme.name(class_id):<12}{percent(m.ap):>9}{percent(m.precision):>11}"
                     f"{percent(m.recall):>8}{percent(m.f1):>7}{m.n_truth:>7}{m.n_pred:>7}")
    o = ev.overall
    lines.append("-" * len(header))
    lines.append(f"{'overall':<12}{percent(o.map):>9}{percent(o.precision):>11}"
                 f"{percent(o.recall):>8}{percent(o.f1):>7}{o.tp + o.fn:>7}{o.tp + o.fp:>7}")
    names = ["background"] + [scheme.name(c) for c in ev.class_ids]
    width = max(len(n) for n in names) + 2
    lines += ["", "confusion (rows: ground truth, columns: prediction; background = missed / "
                  "spurious)",
              " " * width + "".join(f"{n:>{width}}" for n in names)]
    for name, row in zip(names, ev.confusion):
        lines.append(f"{name:<{width}}" + "".join(f"{int(v):>{width}}" for v in row))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from temnet_app.commands._common import predict_with_bar
    from temnet_app.core.analysis import evaluate
    from temnet_app.core.annotations import read_via_csv, read_via_scales
    from temnet_app.core.errors import AnnotationError, MicrographError
    from temnet_app.core.micrographs import read_info
    from temnet_app.jobs import load_detector

    if not 0.0 <= args.threshold <= 1.0:
        raise MicrographError(f"--threshold must be between 0 and 1, got {args.threshold}")
    if args.project is not None:
        return _run_on_project(args)
    if args.images is None or args.labels is None:
        raise AnnotationError("give --images DIR and --labels FILE.csv, or --project FILE")
    if not args.images.is_dir():
        raise MicrographError(f"images folder not found: {args.images}")
    if not args.labels.is_file():
        raise AnnotationError(f"labels file not found: {args.labels}")
    detector = load_detector(args.model, args.mode, args.flips)
    scheme = detector.scheme
    images = args.images.resolve()

    def image_file(name: str) -> Path:
        path = (images / name).resolve()
        if images not in path.parents:
            raise AnnotationError(f"{args.labels}: image name {name!r} points outside the "
                                  f"images folder {args.images}")
        return path

    def image_size(name: str):
        try:
            info = read_info(image_file(name))
        except MicrographError:
            return None
        return info.width, info.height

    truths = read_via_csv(args.labels, scheme=scheme, image_size=image_size)
    stated = {image_file(name): scale for name, scale in read_via_scales(args.labels).items()}
    if not truths:
        raise AnnotationError(f"{args.labels} lists no images")
    paths = [image_file(name) for name in truths]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise MicrographError(f"{len(missing)} of {len(paths)} labelled image(s) are not in "
                              f"{args.images}: {shown}")
    results = predict_with_bar(detector, paths, args, "labelled image(s)", stated)
    failed = [r for r in results if r.error is not None]
    if failed:
        raise MicrographError(f"cannot evaluate: {failed[0].error}")
    predictions = {name: r.detections for name, r in zip(truths, results)}
    ev = evaluate(predictions, truths, scheme.ids, iou_threshold=0.5,
                  score_threshold=args.threshold)
    print(format_table(ev, scheme,
                       title=f"{detector.model_id} on {len(paths)} image(s) from {args.labels}"))
    return 0


def _run_on_project(args: argparse.Namespace) -> int:
    """``--project``: the project's micrographs with manual boxes (optionally one experiment,
    reviewed only), each detected at its scale in the project and scored on its boxes."""
    from temnet_app.commands._common import TextProgress
    from temnet_app.core.errors import ProjectError
    from temnet_app.core.project import Project
    from temnet_app.jobs import compare_models, resolve_model_dir

    if args.images is not None or args.labels is not None:
        raise ProjectError("--project replaces --images and --labels; give one or the other")
    if args.pixel_size is not None or args.magnification is not None or args.camera is not None:
        raise ProjectError("with --project each micrograph is evaluated at its scale in the "
                           "project; set scales there (temnet add, or the window's Ctrl+M)")
    with Project.open(args.project) as project:
        ids = project.annotated_micrograph_ids()
        if args.experiment is not None:
            experiment = project.experiment_by_name(args.experiment)
            if experiment is None:
                raise ProjectError(f"no experiment named {args.experiment!r} in "
                                   f"{args.project.name}")
            ids &= {m.id for m in project.micrographs(experiment.id)}
        if args.reviewed_only:
            ids &= project.reviewed_micrograph_ids()
        if not ids:
            which = " reviewed" if args.reviewed_only else ""
            raise ProjectError(f"no{which} micrographs with manual boxes in "
                               f"{args.project.name}")
        for mid in sorted(ids):
            m = project.micrograph(mid)
            print(f"{m.name}: {project.scale(m).describe()}", file=sys.stderr)
        bar = TextProgress()
        try:
            (score,) = compare_models(project, [resolve_model_dir(args.model)], sorted(ids),
                                      args.threshold, progress=bar, mode=args.mode,
                                      flips=args.flips)
        finally:
            bar.close()
        scheme = project.scheme
    print(format_table(score.evaluation, scheme,
                       title=f"{score.model_id} on {score.micrographs} micrograph(s) of "
                             f"{args.project}"))
    return 0
