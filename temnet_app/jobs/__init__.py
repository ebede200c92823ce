"""Long work as plain functions with progress and cancel, shared by the window's workers and
the CLI: detection over a project, prediction on loose files, statistics, the demo project and
model lookup. Nothing here imports Qt; TensorFlow loads only when a model is loaded."""

from temnet_app.jobs.adding import AddSummary, add_paths
from temnet_app.jobs.comparison import ModelScore, compare_models
from temnet_app.jobs.demo import build_demo_project
from temnet_app.jobs.detection import (RunSummary, SkippedMicrograph, detect_in_project,
                                       run_detection)
from temnet_app.jobs.exporting import (EXPORT_KINDS, export_all, export_annotations,
                                       export_overlays, export_report)
from temnet_app.jobs.importing import ImportSummary, import_annotations
from temnet_app.jobs.models import (DEFAULT_MODEL_NAME, ModelSummary, default_model_dir,
                                    describe_model, load_detector, resolve_model_dir)
from temnet_app.jobs.prediction import FilePrediction, expand_paths, predict_files
from temnet_app.jobs.provenance import detect_command, report_command
from temnet_app.jobs.self_test_data import write_self_test_micrographs
from temnet_app.jobs.statistics import load_statistics
from temnet_app.jobs.training import (TrainingPlan, TrainingState, can_resume, default_epochs,
                                      estimate_seconds, project_models, read_training_state,
                                      register_model, untouched_micrographs)

__all__ = ["DEFAULT_MODEL_NAME", "EXPORT_KINDS", "add_paths", "AddSummary", "build_demo_project",
           "can_resume", "compare_models", "default_epochs", "default_model_dir",
           "describe_model", "detect_command", "detect_in_project", "estimate_seconds",
           "expand_paths", "export_all", "export_annotations", "export_overlays", "export_report",
           "FilePrediction", "import_annotations", "ImportSummary", "load_detector",
           "load_statistics", "ModelScore", "ModelSummary", "predict_files", "project_models",
           "read_training_state", "register_model", "report_command", "resolve_model_dir",
           "run_detection", "RunSummary", "SkippedMicrograph", "TrainingPlan", "TrainingState",
           "untouched_micrographs", "write_self_test_micrographs"]
