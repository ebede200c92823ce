"""Long-running app services shared by the GUI worker and the CLI: detection over a project,
prediction over loose files, and locating the shipped model.

Each job is a plain function taking ``progress(fraction, message)`` and a
:class:`~temnet_app.core.progress.CancelToken`. The detector is any object with the facade API
of :class:`temnet_app.detector.inference.Detector` (``model_id``, ``scheme``, ``score_floor``,
``settings()``, ``detect(image, magnification, progress, cancel)``); nothing here imports
TensorFlow or Qt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from temnet_app.core.boxes import Detection
from temnet_app.core.errors import Cancelled, MicrographError, ModelError, ProjectError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress, scaled
from temnet_app.core.units import check_magnification

DEFAULT_MODEL_NAME = "temnet-gn-synthetic"
MODEL_HINT = ("train one with `temnet train` (see the README) or pass --model with a folder "
              "holding model_card.json and weights.weights.h5")


def _package_root() -> Path:
    return Path(__file__).resolve().parent


def default_model_dir() -> Path:
    """Folder of the shipped model: ``models/temnet-gn-synthetic``.

    Looked up beside the package (a source checkout: ``<repo>/models``) and inside it (an
    installed or frozen app: ``temnet_app/models``); the first that exists is returned, else
    the source-checkout location (callers check with :func:`resolve_model_dir`).
    """
    candidates = [_package_root().parent / "models" / DEFAULT_MODEL_NAME,
                  _package_root() / "models" / DEFAULT_MODEL_NAME]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def resolve_model_dir(model: Optional[Any] = None) -> Path:
    """``model`` (a folder) or the default model folder; :class:`ModelError` if it is missing."""
    if model is None:
        folder = default_model_dir()
        if not folder.is_dir():
            raise ModelError(f"no detector model found at {folder}: {MODEL_HINT}")
        return folder
    folder = Path(model)
    if not folder.is_dir():
        raise ModelError(f"model folder {folder} does not exist: {MODEL_HINT}")
    return folder


@dataclass(frozen=True)
class SkippedMicrograph:
    """A micrograph the job could not use, and why (shown to the user)."""

    micrograph_id: Optional[int]
    name: str
    reason: str


@dataclass(frozen=True)
class RunSummary:
    """What :func:`run_detection` did.

    ``status`` is the run's final status: "complete", "cancelled" or "failed". ``processed``
    lists the micrographs whose detections were stored by this call, ``already_done`` those
    skipped because a resumed run held them already.
    """

    run_id: int
    model_id: str
    status: str
    total: int
    processed: tuple[int, ...]
    skipped: tuple[SkippedMicrograph, ...]
    already_done: tuple[int, ...]
    n_detections: int
    seconds: float


def _named(progress: ProgressFn, prefix: str) -> ProgressFn:
    return lambda fraction, message: progress(fraction, f"{prefix}: {message}" if message
                                              else prefix)


def _finish_quietly(project, run_id: int, status: str) -> None:
    """Record ``status`` while another exception is propagating; never mask that exception."""
    try:
        project.finish_run(run_id, status)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass


def run_detection(project, micrographs: Sequence, detector, progress: Optional[ProgressFn] = None,
                  cancel: Optional[CancelToken] = None,
                  skip_done_run: Optional[int] = None) -> RunSummary:
    """Detect virions on ``micrographs`` of ``project`` and store them in a detection run.

    Each micrograph is read, passed to ``detector.detect`` at its own magnification
    (``project.magnification(m)``), and its detections are committed at once, so a crash or
    a cancel keeps every finished micrograph. A micrograph that cannot be found or read is
    skipped and listed in the summary. With ``skip_done_run`` the earlier run of that id is
    resumed: no new run is started, micrographs already stored in it are skipped, and the
    rest are stored in it (the run must come from the same model).

    Final status: "complete" after the whole list (even with skipped micrographs, unless every
    one was skipped: then "failed"); "cancelled" when ``cancel`` fires (a cancel is NOT
    re-raised: the summary says what was done; Ctrl-C, a ``KeyboardInterrupt``, marks the run
    cancelled and is re-raised); "failed" on any other error, which is re-raised.
    """
    from temnet_app.core.micrograph import read_micrograph

    progress = progress or no_progress
    started = time.perf_counter()
    micrographs = list(micrographs)
    done_before: set[int] = set()
    if skip_done_run is None:
        run = project.start_run(detector.model_id, detector.settings(), detector.score_floor)
    else:
        run = project.run(skip_done_run)
        if run.model_id != detector.model_id:
            raise ProjectError(f"run #{run.id} was made with model {run.model_id}, not "
                               f"{detector.model_id}; start a new run instead of resuming")
        done_before = set(project.detected_micrograph_ids(run.id))
        project.finish_run(run.id, "running")
    processed: list[int] = []
    skipped: list[SkippedMicrograph] = []
    already: list[int] = []
    n_detections = 0
    n = max(1, len(micrographs))
    status = "complete"
    try:
        for i, m in enumerate(micrographs):
            check_cancel(cancel)
            if m.id in done_before:
                already.append(m.id)
                continue
            label = f"{m.name} ({i + 1}/{len(micrographs)})"
            sub = _named(scaled(progress, i / n, (i + 1) / n), label)
            sub(0.0, "reading")
            try:
                image = read_micrograph(project.image_path(m)).pixels
            except (MicrographError, ProjectError, OSError) as error:
                skipped.append(SkippedMicrograph(m.id, m.name, str(error)))
                continue
            detections = detector.detect(image, magnification=project.magnification(m),
                                         progress=sub, cancel=cancel)
            project.store_detections(run.id, m.id, detections)
            processed.append(m.id)
            n_detections += len(detections)
        if skipped and not processed and not already:
            status = "failed"
    except Cancelled:
        status = "cancelled"
    except KeyboardInterrupt:
        _finish_quietly(project, run.id, "cancelled")
        raise
    except BaseException:
        _finish_quietly(project, run.id, "failed")
        raise
    project.finish_run(run.id, status)
    reached = 1.0 if status != "cancelled" else (len(processed) + len(skipped) + len(already)) / n
    progress(reached, f"detection {status}: {len(processed)} micrograph(s), "
                      f"{n_detections} detections")
    return RunSummary(run_id=run.id, model_id=detector.model_id, status=status,
                      total=len(micrographs), processed=tuple(processed),
                      skipped=tuple(skipped), already_done=tuple(already),
                      n_detections=n_detections, seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class FilePrediction:
    """Detections for one image file (``error`` set, and no detections, when it was skipped).

    ``magnification_source`` is "option" (given by the caller), "file" or "default".
    """

    path: Path
    magnification: Optional[float] = None
    magnification_source: str = ""
    width: int = 0
    height: int = 0
    detections: list[Detection] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def name(self) -> str:
        return self.path.name


def expand_paths(paths: Iterable[Any]) -> list[Path]:
    """Image files named by ``paths``; a folder stands for its micrograph files (sorted by
    name, not recursive). A missing path raises :class:`MicrographError`."""
    from temnet_app.core.micrograph import is_micrograph_file

    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted((p for p in path.iterdir() if p.is_file() and is_micrograph_file(p)),
                           key=lambda p: p.name.lower())
            if not found:
                raise MicrographError(f"no micrograph files (TIFF, PNG, JPEG) in folder {path}")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise MicrographError(f"micrograph file not found: {path}")
    return out


def predict_files(paths: Sequence[Any], detector, magnification: Optional[float] = None,
                  progress: Optional[ProgressFn] = None,
                  cancel: Optional[CancelToken] = None) -> list[FilePrediction]:
    """Run ``detector`` on image files outside any project, one result per file in order.

    The magnification is ``magnification`` when given, else the file's metadata, else
    30,000x. An unreadable file gives a result with ``error`` set instead of stopping the job.
    A cancel raises :class:`Cancelled` (nothing is stored, so there is nothing to keep).
    """
    from temnet_app.core.micrograph import read_micrograph, resolve_magnification

    progress = progress or no_progress
    if magnification is not None:
        try:
            magnification = check_magnification(magnification)
        except (TypeError, ValueError) as error:
            raise MicrographError(f"invalid magnification: {error}") from None
    files = [Path(p) for p in paths]
    n = max(1, len(files))
    results: list[FilePrediction] = []
    for i, path in enumerate(files):
        check_cancel(cancel)
        sub = _named(scaled(progress, i / n, (i + 1) / n), f"{path.name} ({i + 1}/{len(files)})")
        sub(0.0, "reading")
        try:
            loaded = read_micrograph(path)
            if magnification is not None:
                mag, source = magnification, "option"
            else:
                mag, source = resolve_magnification(None, loaded.info.magnification, None)
        except (MicrographError, OSError) as error:
            results.append(FilePrediction(path=path, error=str(error)))
            continue
        detections = detector.detect(loaded.pixels, magnification=mag, progress=sub,
                                     cancel=cancel)
        results.append(FilePrediction(path=path, magnification=mag, magnification_source=source,
                                      width=loaded.info.width, height=loaded.info.height,
                                      detections=list(detections)))
    progress(1.0, f"prediction done: {len(files)} file(s)")
    return results
