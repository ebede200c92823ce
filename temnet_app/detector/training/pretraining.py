"""The paper schedule's first stage (2.4): the backbone trained as a classifier of isolated
virions before any detection training.

:class:`Pretraining` holds what :func:`~.loop.train` needs for the stage "backbone": the virion
crops of the training and validation micrographs (:mod:`~temnet_app.detector.data.virion_crops`),
their tf.data pipelines and the classifier on the detector's own backbone (:mod:`.classifier`). The
classifier head is not part of the detector: during the stage it is checkpointed on its own
(:data:`~.state.CLASSIFIER_HEAD`, an ``.npz`` of arrays) so that a run interrupted in the
middle of pre-training resumes with it, and it is dropped afterwards.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

from temnet_app.core.errors import ModelError
from temnet_app.core.progress import CancelToken
from temnet_app.detector.model import DetectorConfig
from temnet_app.detector.training.state import CLASSIFIER_HEAD, load_variables, save_variables

__all__ = ["Pretraining"]


class Pretraining:
    """The paper schedule's first stage: virion crops of the training and validation
    micrographs, their datasets, and the classifier model on the detector's backbone."""

    def __init__(self, settings, config: DetectorConfig, train_src, val_src, augmentation,
                 start_epoch: int, cancel: Optional[CancelToken]):
        from temnet_app.detector.data.virion_crops import crop_side, cut_virions
        from temnet_app.detector.training.classifier import classifier_dataset

        self.config = config
        self.side = crop_side(config)
        self.train_crops = cut_virions(train_src, config, self.side, cancel=cancel)
        self.val_crops = cut_virions(val_src, config, self.side, cancel=cancel)
        if len(self.train_crops) == 0:
            raise ModelError("the paper schedule's pre-training needs virion boxes in the "
                             "training micrographs; there are none")
        if len(self.val_crops) == 0:
            self.val_crops = self.train_crops
        batch = settings.classifier_batch_size
        self.steps = int(math.ceil(len(self.train_crops) / batch))
        self.train_ds = classifier_dataset(self.train_crops, config, True, batch,
                                           seed=settings.seed * 1009 + start_epoch,
                                           augmentation=augmentation)
        self.val_ds = classifier_dataset(self.val_crops, config, False, batch)

    def model(self, parts, checkpoint: Optional[Path]):
        """The classifier on ``parts``' backbone; its head from ``checkpoint`` when given."""
        from temnet_app.detector.training.classifier import build_classifier

        model = build_classifier(parts, self.side)
        if checkpoint is not None and (checkpoint / CLASSIFIER_HEAD).is_file():
            load_variables(checkpoint / CLASSIFIER_HEAD, self._head(model),
                           "classifier head")
        return model

    @staticmethod
    def _head(model) -> list:
        from temnet_app.detector.training.classifier import HEAD_PREFIX

        return [w for layer in model.layers if layer.name.startswith(HEAD_PREFIX)
                for w in layer.weights]

    @staticmethod
    def compile(model, optimizer) -> None:
        import keras

        model.compile(optimizer=optimizer, jit_compile=False,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])

    @classmethod
    def save_head(cls, model, checkpoint: Path) -> None:
        save_variables(checkpoint / CLASSIFIER_HEAD, cls._head(model))

    def describe(self) -> dict:
        n = self.config.num_classes
        names = list(self.config.class_names)
        return {"crop_side_px": self.side,
                "train_crops": dict(zip(names, self.train_crops.class_counts(n))),
                "validation_crops": dict(zip(names, self.val_crops.class_counts(n)))}
