"""Training: targets, losses, the training graph, the loop, settings, checkpoints, the paper's
pre-training stage and the model card. The face imports no TensorFlow; :func:`train` does."""

from temnet_app.detector.training.loop import format_duration, train
from temnet_app.detector.training.settings import SCHEDULES, TrainSettings
from temnet_app.detector.training.state import CHECKPOINT_DIR, load_state

__all__ = ["CHECKPOINT_DIR", "SCHEDULES", "TrainSettings", "format_duration", "load_state",
           "train"]
