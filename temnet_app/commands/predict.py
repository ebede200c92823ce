"""``temnet predict PATHS... --out DIR``: detect virions in image files, no project needed.

Writes three files into ``--out`` (each atomically):
``detections.csv`` - one row per box, ``filename,x1,y1,x2,y2,class,score`` (xyxy pixels of the
micrograph after the info-band crop, every detection above the model's score floor);
``counts.csv`` - per-micrograph counts per class at ``--threshold`` (score >= threshold);
``predict_info.json`` - provenance: model, settings, threshold, and per file the pixel size
used, the magnification, and where each came from.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from temnet_app.commands._common import (add_flips_argument, add_mode_argument, add_model_argument,
                                         add_scale_arguments, threshold_arg)

HELP = "detect and classify virions in micrograph files or folders; write CSV results"
DETECTIONS_CSV = "detections.csv"
COUNTS_CSV = "counts.csv"
INFO_JSON = "predict_info.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="micrograph files (TIFF, PNG, JPEG, MRC, DM3/DM4, SER) or "
                             "folders of them")
    parser.add_argument("--out", type=Path, required=True, help="folder for the CSV results")
    add_model_argument(parser)
    add_scale_arguments(parser, "every file (default: each file's calibration, else its "
                                "magnification, else 30000x)")
    parser.add_argument("--threshold", type=threshold_arg, default=0.5,
                        help="confidence threshold for counts.csv (default 0.5)")
    add_mode_argument(parser)
    add_flips_argument(parser)


def detections_csv_text(results: Sequence, scheme) -> str:
    """The per-box CSV for ``results`` (jobs.FilePrediction list); skipped files have no row.
    Written by the one CSV writer (core.csv_files), so formula-like file names are escaped."""
    from temnet_app.core.csv_files import csv_text

    rows = ([result.name, f"{d.x1:.2f}", f"{d.y1:.2f}", f"{d.x2:.2f}", f"{d.y2:.2f}",
             scheme.name(d.class_id), f"{d.score:.4f}"]
            for result in results for d in result.detections)
    return csv_text(["filename", "x1", "y1", "x2", "y2", "class", "score"], rows)


def write_outputs(out: Path, results: Sequence, detector, threshold: float) -> list[Path]:
    """Write detections.csv, counts.csv and predict_info.json into ``out``; returns the paths."""
    from temnet_app import __version__
    from temnet_app.core.annotations import write_counts_csv
    from temnet_app.core.atomic import atomic_write_text
    from temnet_app.core.boxes import count_by_class, filter_by_score

    out = Path(out)
    scheme = detector.scheme
    good = [r for r in results if r.error is None]
    atomic_write_text(out / DETECTIONS_CSV, detections_csv_text(good, scheme))
    counts = {r.name: count_by_class(filter_by_score(r.detections, threshold), scheme)
              for r in good}
    write_counts_csv(out / COUNTS_CSV, counts, scheme)
    info = {
        "app": f"temnet {__version__}",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_id": detector.model_id,
        "settings": detector.settings(),
        "score_floor": detector.score_floor,
        "count_threshold": threshold,
        "files": [{"file": str(r.path), **_scale_info(r.scale), "width": r.width,
                   "height": r.height, "detections": len(r.detections), "error": r.error}
                  for r in results],
    }
    atomic_write_text(out / INFO_JSON, json.dumps(info, indent=2) + "\n")
    return [out / DETECTIONS_CSV, out / COUNTS_CSV, out / INFO_JSON]


def _scale_info(scale) -> dict:
    """The provenance of one file's scale (all None when the file could not be read)."""
    if scale is None:
        return dict.fromkeys(("pixel_size_nm", "pixel_size_source", "magnification",
                              "magnification_source"))
    return {"pixel_size_nm": scale.pixel_size_nm, "pixel_size_source": scale.origin(),
            "magnification": scale.magnification,
            "magnification_source": scale.magnification_source}


def run(args: argparse.Namespace) -> int:
    from temnet_app.commands._common import predict_with_bar
    from temnet_app.core.errors import MicrographError, OutputError
    from temnet_app.core.output_paths import prepare_output_folder
    from temnet_app.jobs import expand_paths, load_detector, resolve_model_dir

    if not 0.0 <= args.threshold <= 1.0:
        raise MicrographError(f"--threshold must be between 0 and 1, got {args.threshold}")
    ignored: list = []
    files = expand_paths(args.paths, ignored)
    for path, reason in ignored:
        print(f"ignored {path}: {reason}", file=sys.stderr)
    model_dir = resolve_model_dir(args.model)
    prepare_output_folder(args.out)
    detector = load_detector(model_dir, args.mode, args.flips)
    results = predict_with_bar(detector, files, args, "file(s)")
    failed = [r for r in results if r.error is not None]
    for r in failed:
        print(f"skipped {r.name}: {r.error}", file=sys.stderr)
    if len(failed) == len(results):
        raise MicrographError(f"none of the {len(results)} file(s) could be analysed")
    try:
        written = write_outputs(args.out, results, detector, args.threshold)
    except OSError as error:
        raise OutputError(f"cannot write the results to {args.out}: "
                          f"{error.strerror or error}") from None
    n_boxes = sum(len(r.detections) for r in results)
    print(f"{len(results) - len(failed)} file(s), {n_boxes} detections; wrote "
          + ", ".join(str(p) for p in written))
    return 1 if failed else 0
