"""Checking where results will go before the work starts, so that a wrong ``--out`` costs one
line and no time (not a traceback after a long detection)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from temnet_app.core.errors import OutputError


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _file_in_the_way(path: Path):
    """The first existing non-folder among ``path``'s ancestors (or ``path``), else None."""
    for candidate in [*reversed(path.parents), path]:
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return None


def prepare_output_folder(path, what: str = "output folder") -> Path:
    """Create folder ``path`` (with its parents) if needed and check that a file can be written
    in it; :class:`OutputError` with one clear line otherwise."""
    path = Path(path)
    blocker = _file_in_the_way(path)
    if blocker is not None:
        where = "is a file" if blocker == path else f"cannot be made: {blocker} is a file"
        raise OutputError(f"{what} {path} {where}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the {what} {path}: {_reason(error)}") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".temnet-write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise OutputError(f"cannot write into the {what} {path}: {_reason(error)}") from None
    return path


def check_output_file(path, what: str = "output file") -> Path:
    """Check that file ``path`` can be created (its folder is prepared as above) and is not a
    folder; it is not created here."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{what} {path} is a folder")
    prepare_output_folder(path.parent if str(path.parent) else Path("."),
                          what=f"folder of the {what}")
    return path
