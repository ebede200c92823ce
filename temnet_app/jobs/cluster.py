"""Project detection on a Dask cluster: workers detect, the client alone writes the project.

Dask (``pip install 'temnet-app[cluster]'``) is imported only here and only when asked for.
Each worker process loads the model once and reads micrographs from shared storage; when a
worker cannot see a file, the client sends the file's bytes instead. Results come back as
plain arrays; the client stores each micrograph in its own transaction as it arrives, so
cancel, kill -9 and ``--resume`` keep the guarantees of the single-process run. A worker that
dies has its micrographs rescheduled by the Dask scheduler; a micrograph whose task killed
workers :data:`ALLOWED_FAILURES` + 1 times is skipped and reported.

The Dask wire protocol trusts its peers: run workers only on machines of the lab (or use
Dask's TLS security settings).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from temnet_app.core.boxes import detections_from_arrays
from temnet_app.core.classes import ClassScheme
from temnet_app.core.errors import Cancelled, MicrographError, ProjectError, TemnetError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress
from temnet_app.jobs.detection import (RunSummary, SkippedMicrograph, _finish_quietly,
                                       begin_run, end_run)

ALLOWED_FAILURES = 1        # a micrograph may take down one worker; the second time it is skipped
NEED_BYTES = "file not visible on the worker"
CLUSTER_HINT = "install the cluster extra: pip install 'temnet-app[cluster]'"
_DETECTORS: dict = {}       # per worker process: (model folder, mode, flips) -> Detector


# ---------------------------------------------------------------------- on the workers
def _detector(model_dir: str, mode: Optional[str], flips: Optional[bool] = None):
    key = (model_dir, mode, flips)
    if key not in _DETECTORS:
        from temnet_app.jobs.models import load_detector

        _DETECTORS[key] = load_detector(model_dir, mode, flips)
    return _DETECTORS[key]


def worker_settings(model_dir: str, mode: Optional[str], flips: Optional[bool] = None) -> dict:
    """The model's id, run settings and score floor, as a worker sees them (its device)."""
    detector = _detector(model_dir, mode, flips)
    return {"model_id": detector.model_id, "settings": detector.settings(mode),
            "score_floor": detector.score_floor, "classes": detector.scheme.names,
            "class_colours": detector.scheme.colours}


def detect_on_worker(micrograph_id: int, path: str, data: Optional[bytes],
                     pixel_size_nm: float, width: int, height: int, model_dir: str,
                     mode: Optional[str], flips: Optional[bool] = None
                     ) -> tuple[int, Optional[np.ndarray], str]:
    """``(micrograph_id, (N, 6) array x1 y1 x2 y2 class score, "")``, or with the array None
    and the reason it was skipped (:data:`NEED_BYTES` when the file is not visible here)."""
    from temnet_app.core.micrographs import read_micrograph
    from temnet_app.jobs.prediction import check_plan

    detector = _detector(model_dir, mode, flips)
    try:
        check_plan(detector, width, height, pixel_size_nm)
        if data is None:
            if not os.path.isfile(path):
                return micrograph_id, None, NEED_BYTES
            pixels = read_micrograph(path).pixels
        else:
            with tempfile.TemporaryDirectory(prefix="temnet-worker-") as folder:
                local = Path(folder) / Path(path).name
                local.write_bytes(data)
                pixels = read_micrograph(local).pixels
        found = detector.detect(pixels, pixel_size_nm=pixel_size_nm)
    except (TemnetError, OSError) as error:
        return micrograph_id, None, str(error)
    rows = np.array([[d.x1, d.y1, d.x2, d.y2, d.class_id, d.score] for d in found],
                    dtype=np.float64).reshape(-1, 6)
    return micrograph_id, rows, ""


# ---------------------------------------------------------------------- on the client
def open_client(workers: Optional[int] = None, scheduler: Optional[str] = None):
    """A Dask client: on a new ``LocalCluster`` of ``workers`` processes (one thread each),
    or on the scheduler at ``scheduler``. Returns ``(client, cluster or None)``; close both."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise TemnetError(f"Dask is not installed; {CLUSTER_HINT}") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as error:
            raise TemnetError(f"cannot reach the Dask scheduler at {scheduler}: {error}") \
                from None
    dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                     "distributed.logging.distributed": "error"})
    cluster = LocalCluster(n_workers=int(workers or 1), threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    return Client(cluster), cluster


def run_detection_on_cluster(project, micrographs: Sequence, client, model_dir: Any,
                             mode: Optional[str] = None,
                             progress: Optional[ProgressFn] = None,
                             cancel: Optional[CancelToken] = None,
                             skip_done_run: Optional[int] = None,
                             on_stored=None, flips: Optional[bool] = None) -> RunSummary:
    """:func:`temnet_app.jobs.run_detection` with the detection done by ``client``'s workers
    (``mode`` and ``flips`` as in :func:`temnet_app.jobs.load_detector`).

    The same run semantics (statuses, resume, skipped micrographs); micrographs are stored in
    the order they finish, each once. ``on_stored(micrograph_id)`` is called after each commit.
    """
    from distributed import as_completed

    progress = progress or no_progress
    started = time.perf_counter()
    micrographs = list(micrographs)
    model_dir = str(Path(model_dir).resolve())
    progress(0.0, "loading the model on the workers")
    info = client.submit(worker_settings, model_dir, mode, flips, pure=False).result()
    run, done_before = begin_run(project, info["model_id"], info["settings"],
                                 info["score_floor"], skip_done_run,
                                 ClassScheme(info["classes"], info["class_colours"]))
    already = [m.id for m in micrographs if m.id in done_before]
    todo = {m.id: m for m in micrographs if m.id not in done_before}
    processed: list[int] = []
    skipped: list[SkippedMicrograph] = []
    n_detections = 0
    n = max(1, len(micrographs))
    status = "complete"
    futures = []

    scales = {}

    def submit(m, data=None):
        scale = scales[m.id] = scales.get(m.id) or project.scale(m)
        return client.submit(detect_on_worker, m.id, str(project.image_path(m)), data,
                             scale.pixel_size_nm, m.width, m.height, model_dir,
                             mode, flips, pure=False,
                             key=f"temnet-{run.id}-{m.id}-{time.monotonic_ns()}")

    try:
        for m in todo.values():
            try:
                futures.append(submit(m))
            except (MicrographError, ProjectError, OSError) as error:
                skipped.append(SkippedMicrograph(m.id, m.name, str(error)))
        pending = as_completed(futures)
        for future in pending:
            check_cancel(cancel)
            try:
                micrograph_id, rows, reason = future.result()
            except Exception as error:  # noqa: BLE001 - KilledWorker and task crashes
                m = todo[_micrograph_of(future.key)]
                skipped.append(SkippedMicrograph(m.id, m.name, f"failed on the cluster "
                                                              f"({type(error).__name__})"))
                continue
            m = todo[micrograph_id]
            if reason == NEED_BYTES:
                pending.add(submit(m, project.image_path(m).read_bytes()))
                continue
            if rows is None:
                skipped.append(SkippedMicrograph(m.id, m.name, reason))
                continue
            if micrograph_id in processed:
                continue
            project.store_detections(run.id, micrograph_id,
                                     detections_from_arrays(rows[:, :4], rows[:, 4].astype(int),
                                                            rows[:, 5]), scales[micrograph_id])
            processed.append(micrograph_id)
            n_detections += len(rows)
            if on_stored is not None:
                on_stored(micrograph_id)
            finished = len(processed) + len(skipped) + len(already)
            progress(finished / n, f"{m.name}: {len(rows)} detections ({finished}/{n})")
        if skipped and not processed and not already:
            status = "failed"
    except Cancelled:
        status = "cancelled"
    except KeyboardInterrupt:
        client.cancel(futures)
        _finish_quietly(project, run.id, "cancelled")
        raise
    except BaseException:
        client.cancel(futures)
        _finish_quietly(project, run.id, "failed")
        raise
    finally:
        client.cancel([f for f in futures if not f.done()])
    return end_run(project, run, status, micrographs, processed, skipped, already,
                   n_detections, started, progress)


def _micrograph_of(key: str) -> int:
    return int(str(key).split("-")[2])
