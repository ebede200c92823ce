"""A project's class set and the classes of the model that detects in it."""

from __future__ import annotations

import logging

from temnet_app.core.classes import ClassScheme
from temnet_app.core.errors import ProjectError

_log = logging.getLogger(__name__)


def adopt_model_classes(project, model: ClassScheme, model_id: str = "the model") -> bool:
    """Make ``project`` able to store detections of a model with classes ``model``.

    The same names in the same order (letter case aside): nothing changes (the project keeps
    its colours). A project that stores no box, detection or count yet takes the model's
    classes and colours; one whose classes are the model's first ones gains the others. Any
    other difference is a :class:`ProjectError` saying what differs. True when the project's
    classes changed.
    """
    own = project.scheme
    if own.same_classes(model):
        return False
    lower = [n.lower() for n in own.names]
    if not project.classes_in_use():
        project.set_classes(model)
    elif [n.lower() for n in model.names[:len(lower)]] == lower:
        project.set_classes(ClassScheme(model.names, own.colours + model.colours[len(lower):]))
    else:
        raise ProjectError(
            f"{model_id} detects {model.describe()}, but this project's boxes and counts use "
            f"{own.describe()}; choose a model trained on the project's classes, or start a "
            f"new project for this model")
    _log.info("project classes set to %s (from %s)", project.scheme.describe(), model_id)
    return True
