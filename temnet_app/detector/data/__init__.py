"""Training data: labelled sources (VIA folders, projects), crops and the 75% rule,
augmentation, the tf.data pipeline and isolated virion crops. The face exports the sources
(no TensorFlow import)."""

from temnet_app.detector.data.labelled import (LabelledMicrograph, read_folder, read_project,
                                               split_micrographs)

__all__ = ["LabelledMicrograph", "read_folder", "read_project", "split_micrographs"]
