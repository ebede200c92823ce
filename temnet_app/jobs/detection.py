"""Detection over a project's micrographs as one detection run, committed per micrograph.

The detector is any object with the facade API of :class:`temnet_app.detector.Detector`
(``model_id``, ``scheme``, ``score_floor``, ``settings()``, ``detect(image, magnification,
progress, cancel)``, and optionally ``probe_scales(image, pixel_size_nm, cancel=)`` for the
scale check); nothing here imports TensorFlow or Qt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Sequence

from temnet_app.core.errors import Cancelled, MicrographError, ProjectError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress, scaled
from temnet_app.core.scale_check import ScaleAdvice, judge_scale, needs_probe


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
    scale_advice: tuple[tuple[str, ScaleAdvice], ...] = ()

    def scale_messages(self) -> list[str]:
        """One line per micrograph whose stated scale looks wrong (see :func:`check_scale`)."""
        return [advice.message(name) for name, advice in self.scale_advice]


def named_progress(progress: ProgressFn, prefix: str) -> ProgressFn:
    """``progress`` with every message prefixed by ``prefix`` (e.g. the micrograph name)."""
    return lambda fraction, message: progress(fraction, f"{prefix}: {message}" if message
                                              else prefix)


def check_scale(detector, image, scale, detections, checked: set, progress: ProgressFn,
                cancel: Optional[CancelToken] = None) -> Optional[ScaleAdvice]:
    """The scale check of one micrograph (:mod:`temnet_app.core.scale_check`): when its
    detections at the stated ``scale`` look off and no micrograph at that pixel size was
    probed yet in this run (``checked``), try other scales and return advice when another is
    clearly better. At most one probe (a few seconds) per distinct pixel size and run."""
    probe = getattr(detector, "probe_scales", None)
    key = round(float(scale.pixel_size_nm), 9)
    if probe is None or key in checked or not needs_probe(detections, scale.pixel_size_nm):
        return None
    checked.add(key)
    progress(1.0, "checking the scale")
    trials = probe(image, scale.pixel_size_nm, cancel=cancel)
    return judge_scale(trials, scale.pixel_size_nm, scale.magnification)


def _finish_quietly(project, run_id: int, status: str) -> None:
    """Record ``status`` while another exception is propagating; never mask that exception."""
    try:
        project.finish_run(run_id, status)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass


def run_detection(project, micrographs: Sequence, detector, progress: Optional[ProgressFn] = None,
                  cancel: Optional[CancelToken] = None,
                  skip_done_run: Optional[int] = None, overlap: bool = True) -> RunSummary:
    """Detect virions on ``micrographs`` of ``project`` and store them in a detection run.

    Each micrograph is read, passed to ``detector.detect`` at its own magnification
    (``project.scale(m)``: its pixel size), and its detections are committed at once, so a crash or
    a cancel keeps every finished micrograph. A micrograph that cannot be found or read is
    skipped and listed in the summary. With ``skip_done_run`` the earlier run of that id is
    resumed: no new run is started, micrographs already stored in it are skipped, and the
    rest are stored in it (the run must come from the same model).

    With ``overlap`` (the default) the next two micrographs are read and decoded in a
    background thread while the current one is in the network, and detections are committed
    by another thread (at most two waiting); the stored detections are exactly those of the
    serial path (``overlap=False``), and a cancel still commits every finished micrograph.

    Final status: "complete" after the whole list (even with skipped micrographs, unless every
    one was skipped: then "failed"); "cancelled" when ``cancel`` fires (a cancel is NOT
    re-raised: the summary says what was done; Ctrl-C, a ``KeyboardInterrupt``, marks the run
    cancelled and is re-raised); "failed" on any other error, which is re-raised.
    """
    from temnet_app.core.micrographs import read_micrograph
    from temnet_app.jobs.pipeline import reader_for, writer_for
    from temnet_app.jobs.prediction import check_plan

    progress = progress or no_progress
    started = time.perf_counter()
    micrographs = list(micrographs)
    run, done_before = begin_run(project, detector.model_id, detector.settings(),
                                 detector.score_floor, skip_done_run, detector.scheme)
    processed: list[int] = []
    skipped: list[SkippedMicrograph] = []
    already = [m.id for m in micrographs if m.id in done_before]
    todo = [(i, m) for i, m in enumerate(micrographs) if m.id not in done_before]
    n_detections = 0
    n = max(1, len(micrographs))
    status = "complete"
    advice: list[tuple[str, ScaleAdvice]] = []
    checked: set = set()

    def load(entry):
        m = entry[1]
        scale = project.scale(m)
        check_plan(detector, m.width, m.height, scale.pixel_size_nm)
        return read_micrograph(project.image_path(m)).pixels, scale

    def store(result):
        micrograph_id, detections, scale = result
        project.store_detections(run.id, micrograph_id, detections, scale)

    depth = 2 if overlap else 0
    try:
        with reader_for(todo, load, depth) as reader, writer_for(store, depth) as writer:
            for (i, m), loaded, error in reader:
                check_cancel(cancel)
                if isinstance(error, (MicrographError, ProjectError, OSError)):
                    skipped.append(SkippedMicrograph(m.id, m.name, str(error)))
                    continue
                if error is not None:
                    raise error
                image, scale = loaded
                sub = named_progress(scaled(progress, i / n, (i + 1) / n),
                                     f"{m.name} ({i + 1}/{len(micrographs)})")
                sub(0.0, "detecting")
                try:
                    detections = detector.detect(image, pixel_size_nm=scale.pixel_size_nm,
                                                 progress=sub, cancel=cancel)
                except MicrographError as error:   # e.g. too large to analyse at its scale
                    del image, loaded
                    skipped.append(SkippedMicrograph(m.id, m.name, str(error)))
                    continue
                writer.put((m.id, detections, scale))   # stored before any scale check
                processed.append(m.id)
                n_detections += len(detections)
                try:
                    found = check_scale(detector, image, scale, detections, checked, sub,
                                        cancel)
                finally:
                    del image, loaded
                if found is not None:
                    advice.append((m.name, found))
                    sub(1.0, f"its scale looks wrong: about {found.magnification:,.0f}x fits")
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
    return end_run(project, run, status, micrographs, processed, skipped, already,
                   n_detections, started, progress, advice)


def begin_run(project, model_id: str, settings: dict, score_floor: float,
              skip_done_run: Optional[int], scheme):
    """``(run, ids already stored)``: a new run, or run ``skip_done_run`` claimed for this
    process (same model required; refused while another live process runs it). The project
    first takes the model's classes ``scheme`` if it can (:func:`adopt_model_classes`)."""
    from temnet_app.jobs.classes import adopt_model_classes

    adopt_model_classes(project, scheme, model_id)
    if skip_done_run is None:
        return project.start_run(model_id, settings, score_floor), set()
    run = project.run(skip_done_run)
    if run.model_id != model_id:
        raise ProjectError(f"run #{run.id} was made with model {run.model_id}, not "
                           f"{model_id}; start a new run instead of resuming")
    project.claim_run(run.id)
    return run, set(project.detected_micrograph_ids(run.id))


def end_run(project, run, status: str, micrographs: Sequence, processed: list,
            skipped: list, already: list, n_detections: int, started: float,
            progress: ProgressFn, advice: Sequence = ()) -> RunSummary:
    """Record the run's final ``status``, report it, and summarise what was done."""
    project.finish_run(run.id, status)
    n = max(1, len(micrographs))
    reached = 1.0 if status != "cancelled" else (len(processed) + len(skipped) + len(already)) / n
    progress(reached, f"detection {status}: {len(processed)} micrograph(s), "
                      f"{n_detections} detections")
    return RunSummary(run_id=run.id, model_id=run.model_id, status=status,
                      total=len(micrographs), processed=tuple(processed),
                      skipped=tuple(skipped), already_done=tuple(already),
                      n_detections=n_detections, seconds=time.perf_counter() - started,
                      scale_advice=tuple(advice))


def detect_in_project(project, micrograph_ids: Sequence[int], model=None,
                      mode: Optional[str] = None, progress: Optional[ProgressFn] = None,
                      cancel: Optional[CancelToken] = None,
                      on_model_loaded=None, flips: Optional[bool] = None) -> RunSummary:
    """Load the detector in folder ``model`` (the shipped model when None; TensorFlow loads
    here; ``mode`` and ``flips`` as in :func:`~temnet_app.jobs.models.load_detector`) and run
    :func:`run_detection` over ``micrograph_ids`` of ``project``.

    ``on_model_loaded(detector)`` is called once the model is ready (the window shows the
    compute device then). Loading takes the first 5% of the progress range."""
    from temnet_app.jobs.models import load_detector

    progress = progress or no_progress
    ids = [int(i) for i in micrograph_ids]
    if not ids:
        raise ProjectError("no micrographs selected for detection")
    micrographs = [project.micrograph(i) for i in ids]
    progress(0.0, "loading the detector model (TensorFlow)")
    detector = load_detector(model, mode, flips)
    check_cancel(cancel)
    if on_model_loaded is not None:
        on_model_loaded(detector)
    return run_detection(project, micrographs, detector, progress=scaled(progress, 0.05, 1.0),
                         cancel=cancel)
