"""Image files of a project: how their paths are stored, hashed, and found again after a move.

Stored paths are POSIX, relative to the folder holding the project file, so a project folder
copied with its images to another disk or machine still works. When the stored path fails, a
few likely places are tried; a candidate is trusted only if its size and sha256 match.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterator, Optional

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The sha256 hex digest of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def absolute(path: Path) -> Path:
    """``path`` made absolute without resolving symbolic links."""
    return Path(os.path.abspath(os.fspath(path)))


def stored_path(image: Path, project_folder: Path) -> str:
    """The POSIX path of ``image`` relative to ``project_folder`` (absolute if on another
    drive, where no relative path exists)."""
    image_abs = absolute(image)
    try:
        relative = os.path.relpath(image_abs, absolute(project_folder))
    except ValueError:  # another drive on Windows
        return image_abs.as_posix()
    return Path(relative).as_posix()


def _as_local(stored: str) -> Path:
    return Path(*PurePosixPath(stored).parts) if stored else Path()


def _tail_parts(stored: str) -> tuple[str, ...]:
    """The components of a stored path without root, drive and ``..``/``.`` parts."""
    pure = PureWindowsPath(stored) if ":" in stored[:3] else PurePosixPath(stored)
    skip = {pure.anchor, "..", ".", ""}
    return tuple(p for p in pure.parts if p not in skip)


def primary_location(stored: str, project_folder: Path) -> Path:
    """Where the stored path points from the project's current folder."""
    local = _as_local(stored)
    return local if local.is_absolute() else Path(os.path.normpath(project_folder / local))


def fallback_locations(stored: str, project_folder: Path, abs_hint: str,
                       experiment_name: Optional[str]) -> Iterator[Path]:
    """Other places the file may be after the project or its images moved, most likely first:
    the absolute path it had when added; the project folder plus ever shorter tails of the
    stored path; a folder named after the experiment beside the project file."""
    seen = {primary_location(stored, project_folder)}
    tails = _tail_parts(stored)
    candidates: list[Path] = []
    if abs_hint:
        candidates.append(_as_local(abs_hint))
    for start in range(len(tails)):
        candidates.append(project_folder.joinpath(*tails[start:]))
    if experiment_name and tails:
        candidates.append(project_folder / experiment_name / tails[-1])
    for candidate in candidates:
        if candidate not in seen:
            seen.add(candidate)
            yield candidate


def file_size(path: Path) -> Optional[int]:
    """Size in bytes of a regular file, or ``None`` if there is none at ``path``."""
    try:
        if path.is_file():
            return path.stat().st_size
    except OSError:
        pass
    return None


def matches(path: Path, size: int, checksum: str) -> bool:
    """True if ``path`` is a file of ``size`` bytes whose sha256 is ``checksum``."""
    if file_size(path) != size:
        return False
    try:
        return sha256_file(path) == checksum
    except OSError:
        return False




def is_hidden(path: Path) -> bool:
    """Dot-files and OS clutter (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``)."""
    return path.name.startswith(".") or path.name.lower() in {"thumbs.db", "desktop.ini"}
