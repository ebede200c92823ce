"""Prediction on loose image files outside any project (``temnet predict``, ``evaluate``)."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from temnet_app.core.boxes import Detection
from temnet_app.core.errors import MicrographError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress, scaled
from temnet_app.core.scale import CameraCalibration, Scale, resolve_scale
from temnet_app.jobs.detection import named_progress


@dataclass(frozen=True)
class FilePrediction:
    """Detections for one image file (``error`` set, and no detections, when it was skipped).

    ``scale``: the pixel size the detector used and where it came from ("override" when
    given by the caller, "file" or "default"); None when the file could not be read.
    """

    path: Path
    scale: Optional[Scale] = None
    width: int = 0
    height: int = 0
    detections: list[Detection] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def pixel_size_nm(self) -> Optional[float]:
        return None if self.scale is None else self.scale.pixel_size_nm

    @property
    def magnification(self) -> Optional[float]:
        return None if self.scale is None else self.scale.magnification


def check_plan(detector, width: int, height: int, pixel_size_nm: float) -> None:
    """Refuse (MicrographError) a micrograph the detector cannot analyse at its scale, from its
    size alone, before its pixels are decoded (detectors without ``plan`` accept all)."""
    plan = getattr(detector, "plan", None)
    if plan is not None:
        plan(int(width), int(height), pixel_size_nm=float(pixel_size_nm))


def _broken_link(path: Path) -> str:
    """Why ``path`` is an unusable symbolic link ("" when it is not one)."""
    if not path.is_symlink():
        return ""
    try:
        path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symbolic link loop"
        return f"a dangling symbolic link (to {os.readlink(path)})"
    return ""


def expand_paths(paths: Iterable[Any], skipped: Optional[list] = None) -> list[Path]:
    """Image files named by ``paths``; a folder stands for its micrograph files (sorted by
    name, not recursive). A missing path raises :class:`MicrographError`. What a folder holds
    but cannot be used (sub-folders, dangling links, link loops) is appended to ``skipped``
    as ``(path, reason)``."""
    from temnet_app.core.micrographs import FORMAT_LIST, is_micrograph_file

    out: list[Path] = []
    notes = skipped if skipped is not None else []
    for raw in paths:
        path = Path(raw)
        broken = _broken_link(path)
        if broken:
            raise MicrographError(f"{path} is {broken}")
        if path.is_dir():
            found = []
            for entry in sorted(path.iterdir(), key=lambda p: p.name.lower()):
                broken = _broken_link(entry)
                if broken:
                    notes.append((entry, broken))
                elif entry.is_dir():
                    notes.append((entry, "a sub-folder (folders are not searched recursively)"))
                elif entry.is_file() and is_micrograph_file(entry):
                    found.append(entry)
            if not found:
                raise MicrographError(f"no micrograph files ({FORMAT_LIST}) in folder "
                                      f"{path}")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise MicrographError(f"micrograph file not found: {path}")
    return out


def predict_files(paths: Sequence[Any], detector, magnification: Optional[float] = None,
                  progress: Optional[ProgressFn] = None,
                  cancel: Optional[CancelToken] = None, *,
                  pixel_size_nm: Optional[float] = None,
                  camera: Optional[CameraCalibration] = None,
                  stated: Optional[Mapping[Any, tuple]] = None) -> list[FilePrediction]:
    """Run ``detector`` on image files outside any project, one result per file in order.

    The scale is ``pixel_size_nm`` or ``magnification`` when given, else what ``stated`` gives
    for the path (``{path: (pixel size, magnification)}``, e.g. from a VIA CSV's
    file_attributes), else the file's pixel size, else its magnification, else 30,000x
    (magnifications through ``camera``, the reference calibration when None). An unreadable
    file gives a result with ``error`` set instead of stopping the job. A cancel raises
    :class:`Cancelled` (nothing is stored, so there is nothing to keep).
    """
    from temnet_app.core.micrographs import read_info, read_micrograph

    progress = progress or no_progress
    resolve_scale(override_pixel_size=pixel_size_nm, override_magnification=magnification,
                  camera=camera)        # a bad option fails before any file is read
    files = [Path(p) for p in paths]
    n = max(1, len(files))
    results: list[FilePrediction] = []
    for i, path in enumerate(files):
        check_cancel(cancel)
        sub = named_progress(scaled(progress, i / n, (i + 1) / n),
                             f"{path.name} ({i + 1}/{len(files)})")
        sub(0.0, "reading")
        try:
            header = read_info(path)
            given = (pixel_size_nm, magnification)
            if given == (None, None) and stated:
                given = stated.get(path, given)
            scale = resolve_scale(override_pixel_size=given[0], override_magnification=given[1],
                                  file_pixel_size=header.pixel_size_nm,
                                  file_magnification=header.magnification, camera=camera)
            check_plan(detector, header.width, header.height, scale.pixel_size_nm)
            loaded = read_micrograph(path)
        except (MicrographError, OSError) as error:
            results.append(FilePrediction(path=path, error=str(error)))
            continue
        width, height = loaded.info.width, loaded.info.height
        try:
            detections = detector.detect(loaded.pixels, pixel_size_nm=scale.pixel_size_nm,
                                         progress=sub, cancel=cancel)
        except MicrographError as error:   # e.g. too large to analyse at its scale
            results.append(FilePrediction(path=path, scale=scale, width=width, height=height,
                                          error=str(error)))
            continue
        finally:
            del loaded
        results.append(FilePrediction(path=path, scale=scale, width=width, height=height,
                                      detections=list(detections)))
    progress(1.0, f"prediction done: {len(files)} file(s)")
    return results
