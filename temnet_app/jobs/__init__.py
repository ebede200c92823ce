"""Long work as plain functions with progress and cancel, shared by the window's workers and
the CLI: detection over a project, prediction on loose files, statistics, the demo project and
model lookup. Nothing here imports Qt; TensorFlow loads only when a model is loaded."""

from temnet_app.jobs.demo import build_demo_project
from temnet_app.jobs.detection import RunSummary, SkippedMicrograph, run_detection
from temnet_app.jobs.models import (DEFAULT_MODEL_NAME, default_model_dir, load_detector,
                                    resolve_model_dir)
from temnet_app.jobs.prediction import FilePrediction, expand_paths, predict_files
from temnet_app.jobs.statistics import load_statistics

__all__ = ["DEFAULT_MODEL_NAME", "FilePrediction", "RunSummary", "SkippedMicrograph",
           "build_demo_project", "default_model_dir", "expand_paths", "load_detector",
           "load_statistics", "predict_files", "resolve_model_dir", "run_detection"]
