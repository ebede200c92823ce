"""Weights files: Keras 3 ``.weights.h5`` saved from / loaded into a freshly built model.

Only weights are ever read from disk, into an architecture we build from a config; never
``keras.models.load_model`` on a user file (it can deserialize code), never pickle. Keras keys
the file by the model's structure, so a file fits exactly the architecture of the config that
wrote it; anything else raises :class:`ModelError` with one clear line.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np

from temnet_app.core.atomic import atomic_path
from temnet_app.core.errors import ModelError

WEIGHTS_SUFFIX = ".weights.h5"
PathLike = Union[str, os.PathLike]


def save_weights(model, path: PathLike) -> Path:
    """Write ``model``'s weights atomically to ``path`` (which must end in ``.weights.h5``)."""
    path = Path(path)
    if not path.name.endswith(WEIGHTS_SUFFIX):
        raise ModelError(f"weights file name must end in {WEIGHTS_SUFFIX}: {path}")
    with atomic_path(path) as tmp:
        # Keras insists on the suffix, so write beside the temp file and rename onto it.
        scratch = tmp.with_name(tmp.name + WEIGHTS_SUFFIX)
        try:
            model.save_weights(str(scratch))
            os.replace(scratch, tmp)
        finally:
            if scratch.exists():
                scratch.unlink()
    return path


def _count_arrays(path: Path) -> int:
    import h5py

    count = 0

    def visit(_name, obj):
        nonlocal count
        if isinstance(obj, h5py.Dataset):
            count += 1

    with h5py.File(path, "r") as handle:
        handle.visititems(visit)
    return count


def load_weights(model, path: PathLike) -> None:
    """Load ``path`` into ``model`` (built from the matching config) or raise ModelError."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    if not path.name.endswith(WEIGHTS_SUFFIX):
        raise ModelError(f"weights file name must end in {WEIGHTS_SUFFIX}: {path}")
    try:
        stored = _count_arrays(path)
    except Exception as error:  # noqa: BLE001 - h5py raises OSError and friends
        raise ModelError(f"weights file {path} is not a readable HDF5 file "
                         f"({str(error).splitlines()[0] if str(error) else type(error).__name__})"
                         ) from None
    expected = len(model.weights)
    if stored != expected:
        raise ModelError(f"weights file {path} holds {stored} arrays but this detector "
                         f"architecture has {expected}: it was written for another "
                         f"configuration")
    try:
        with warnings.catch_warnings():
            # Keras 3.15 notes an internal bookkeeping group it never writes; harmless here
            # because the array count and every shape are checked.
            warnings.filterwarnings("ignore", message="Skipping nested container")
            model.load_weights(str(path))
    except Exception as error:  # noqa: BLE001 - Keras raises ValueError / KeyError / OSError
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"weights file {path} does not fit this detector architecture: "
                         f"{first}") from None


def seeded_init(model, seed: int) -> None:
    """Overwrite every weight with a deterministic draw from numpy (independent of Keras's
    initialisers): He-normal kernels, zero biases / betas / means, unit gammas / variances.

    Used to pin the model's numerics in golden tests across Keras versions.
    """
    rng = np.random.default_rng(int(seed))
    for variable in model.weights:
        name = variable.path.rsplit("/", 1)[-1]
        shape = tuple(variable.shape)
        if name == "kernel":
            fan_in = max(1, math.prod(shape[:-1]))
            value = rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
        elif name in ("gamma", "moving_variance"):
            value = np.ones(shape)
        else:
            value = np.zeros(shape)
        variable.assign(value.astype(np.float32))


CLASS_LAYERS = ("head_class_logits", "head_deltas")  # their sizes follow the class count


def transfer_weights(target, source, skip: tuple[str, ...] = CLASS_LAYERS) -> int:
    """Copy ``source``'s weights into ``target`` (the same architecture apart from the layers
    named in ``skip``, which keep their fresh initialisation): a model fine-tuned on other
    classes starts from everything the source learnt except its class head. Returns the
    number of arrays copied; ModelError when the two differ elsewhere."""
    if len(target.weights) != len(source.weights):
        raise ModelError(f"cannot start from that model: {len(source.weights)} weight arrays, "
                         f"this detector has {len(target.weights)}")
    copied = 0
    for mine, theirs in zip(target.weights, source.weights):
        if any(name in mine.path.split("/") for name in skip):
            continue
        if tuple(mine.shape) != tuple(theirs.shape):
            raise ModelError(f"cannot start from that model: {mine.path} is "
                             f"{tuple(theirs.shape)} there and {tuple(mine.shape)} here")
        mine.assign(theirs.numpy())
        copied += 1
    return copied
