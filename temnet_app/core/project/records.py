"""Immutable records read from a project file: experiments, micrographs, detection runs, events.

Times are ISO-8601 UTC strings (``2024-05-01T12:00:00+00:00``). Micrograph paths are POSIX
paths relative to the folder holding the project file (absolute only when no relative path
exists, e.g. another drive on Windows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Optional

from temnet_app.core.errors import ProjectError

RUN_STATUSES = ("running", "complete", "cancelled", "failed")
# Shown (never stored) for a run whose file says "running" but whose process is gone.
INTERRUPTED = "interrupted"
EVENT_KINDS = ("experiment", "micrograph", "manual", "run", "detections", "classes", "settings")


def utc_now() -> str:
    """The current time as ISO-8601 UTC with second precision."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Experiment:
    """A sample / condition: a named group of micrographs (usually one folder)."""

    id: int
    name: str
    notes: str
    magnification: Optional[float]
    created: str
    pixel_size_nm: Optional[float] = None

    COLUMNS = "id, name, notes, magnification, created, pixel_size_nm"

    @classmethod
    def from_row(cls, row: tuple) -> "Experiment":
        return cls(int(row[0]), row[1], row[2], row[3], row[4], row[5])


@dataclass(frozen=True)
class Micrograph:
    """One image of an experiment; ``width`` x ``height`` are of the image as the app uses it
    (after the info-band crop); ``checksum`` is the sha256 hex of the file bytes.
    ``file_magnification`` / ``pixel_size_nm``: what the file states (None when it does not);
    ``magnification_override`` / ``pixel_size_override``: what the user set for it."""

    id: int
    experiment_id: int
    path: str
    width: int
    height: int
    checksum: str
    file_magnification: Optional[float]
    magnification_override: Optional[float]
    pixel_size_nm: Optional[float]
    added: str
    pixel_size_override: Optional[float] = None

    @property
    def name(self) -> str:
        """The file name, e.g. ``1797001.tif``."""
        return PurePosixPath(self.path).name

    COLUMNS = ("id, experiment_id, path, width, height, checksum, file_magnification, "
               "magnification_override, pixel_size_nm, added, pixel_size_override")

    @classmethod
    def from_row(cls, row: tuple) -> "Micrograph":
        return cls(int(row[0]), int(row[1]), row[2], int(row[3]), int(row[4]), row[5],
                   row[6], row[7], row[8], row[9], row[10])


@dataclass(frozen=True)
class DetectionRun:
    """One detection pass: the model, its settings, and the score floor below which nothing is
    stored. ``finished`` is set when the status leaves ``running``.

    ``status`` is "interrupted" for a run stored as running whose owning process is gone (a
    kill -9, a power cut); ``owner`` describes the process of a live running run."""

    id: int
    model_id: str
    settings: dict
    score_floor: float
    created: str
    status: str
    finished: Optional[str] = None
    owner: str = ""

    COLUMNS = ("id, model_id, settings, score_floor, created, status, finished, owner_host, "
               "owner_pid, owner_token, heartbeat")

    @classmethod
    def from_row(cls, row: tuple) -> "DetectionRun":
        from temnet_app.core.processes import describe_owner, owner_alive

        run_id = int(row[0])
        try:
            settings = json.loads(row[2])
            if not isinstance(settings, dict):
                raise ValueError("not a JSON object")
            score_floor = float(row[3])
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"damaged project: table runs, row {run_id}: settings or score "
                               f"floor cannot be read ({exc})") from None
        status, owner = row[5], ""
        if status == "running":
            host, pid, token, heartbeat = row[7:11]
            if owner_alive(host, pid, token, heartbeat):
                owner = describe_owner(host, pid)
            else:
                status = INTERRUPTED
        return cls(run_id, row[1], settings, score_floor, row[4], status, row[6], owner)


@dataclass(frozen=True)
class ChangeEvent:
    """Something about ``ids`` changed; listeners re-read what they show.

    Kinds and their ids: ``experiment`` experiment ids; ``micrograph`` micrograph ids (added,
    removed, or changed); ``manual`` micrograph ids whose manual boxes or counts changed;
    ``run`` run ids (started, finished, removed); ``detections`` micrograph ids whose
    detections in run ``run_id`` were stored; ``classes`` no ids (class names changed);
    ``settings`` no ids (a project setting changed).
    """

    kind: str
    ids: tuple[int, ...]
    run_id: Optional[int] = None


@dataclass(frozen=True)
class AddFolderResult:
    """What :meth:`Project.add_folder` did: the new experiment, the micrographs added, and
    each file or sub-folder skipped with the reason."""

    experiment: Experiment
    added: list[Micrograph]
    skipped: list[tuple[Path, str]]
