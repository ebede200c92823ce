"""Faster R-CNN + FPN detector (Keras 3 on TensorFlow): the only layer that imports TensorFlow.

Importing this face does not load TensorFlow; :meth:`Detector.load` and :func:`train` do.
"""

from temnet_app.detector.data import read_folder, read_project
from temnet_app.detector.inference import CARD_FILE, WEIGHTS_FILE, Detector, read_card
from temnet_app.detector.model import DetectorConfig, preset
from temnet_app.detector.training import (CHECKPOINT_DIR, SCHEDULES, TrainSettings, format_duration,
                                          load_state, train)

__all__ = ["CARD_FILE", "CHECKPOINT_DIR", "SCHEDULES", "WEIGHTS_FILE", "Detector",
           "DetectorConfig", "TrainSettings", "format_duration", "load_state", "preset",
           "read_card", "read_folder", "read_project", "train"]
