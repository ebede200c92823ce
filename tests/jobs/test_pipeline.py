"""The overlapped batch: read-ahead and background commits keep order, bound memory, pass
errors back, flush on cancel, and store exactly what the serial path stores."""

import threading
import time

import numpy as np
import pytest
import tifffile

from temnet_app.core.errors import Cancelled
from temnet_app.core.progress import CancelToken
from temnet_app.core.project import Project
from temnet_app.jobs import run_detection
from temnet_app.jobs.pipeline import BackgroundWriter, Prefetcher


def test_prefetcher_keeps_order_reads_at_most_depth_ahead_and_hands_back_errors():
    started = []

    def load(x):
        started.append(x)
        if x == 3:
            raise ValueError("bad 3")
        return x * 10

    out = []
    with Prefetcher(range(6), load, depth=2) as reader:
        for item, value, error in reader:
            time.sleep(0.05)                  # the consumer is the slow side
            ahead = len(started) - (item + 1)
            assert ahead <= 3                 # 2 waiting in the queue + 1 being loaded
            out.append((item, value, str(error) if error else None))
    assert out == [(0, 0, None), (1, 10, None), (2, 20, None), (3, None, "bad 3"),
                   (4, 40, None), (5, 50, None)]


def test_prefetcher_closed_early_stops_its_thread():
    gate = threading.Event()
    with Prefetcher(range(100), lambda x: gate.wait(0.01) or x, depth=2) as reader:
        for item, _, _ in reader:
            if item == 1:
                break
    assert not [t for t in threading.enumerate() if t.name == "temnet-prefetch"]


def test_background_writer_writes_in_order_flushes_on_error_exit_and_reports_failures():
    written = []
    with pytest.raises(Cancelled):
        with BackgroundWriter(lambda v: (time.sleep(0.01), written.append(v)), depth=2) as w:
            for v in range(5):
                w.put(v)
            raise Cancelled("stop")        # what was put is still written (a cancel keeps it)
    assert written == [0, 1, 2, 3, 4]

    def failing(v):
        if v == 2:
            raise OSError("disk full")
        written.append(v)

    written.clear()
    with pytest.raises(OSError, match="disk full"):
        with BackgroundWriter(failing, depth=1) as w:
            for v in range(50):
                w.put(v)
    assert written == [0, 1]               # nothing after the failure
    assert not [t for t in threading.enumerate() if t.name == "temnet-commit"]


@pytest.fixture(scope="module")
def shipped():
    from temnet_app.jobs import load_detector

    return load_detector(None, "tiled")


def test_overlapped_detection_stores_exactly_the_serial_detections(tmp_path, shipped):
    folder = tmp_path / "WT"
    folder.mkdir()
    rng = np.random.default_rng(9)
    for i in range(4):
        tifffile.imwrite(folder / f"m{i}.tif", rng.integers(60, 190, (900, 1200), np.uint8))
    with Project.create(tmp_path / "p.temnet") as project:
        project.add_folder(folder)
        ms = project.micrographs()
        (folder / "m2.tif").unlink()                          # gone after adding: skipped
        serial = run_detection(project, ms, shipped, overlap=False)
        overlapped = run_detection(project, ms, shipped, overlap=True)
        assert serial.processed == overlapped.processed and len(serial.processed) == 3
        assert [s.name for s in serial.skipped] == [s.name for s in overlapped.skipped]
        for m in ms:
            if m.id in serial.processed:
                a = project.detection_arrays(serial.run_id, m.id)
                b = project.detection_arrays(overlapped.run_id, m.id)
                for x, y in zip(a, b):
                    np.testing.assert_array_equal(x, y)
        # a cancel during the overlapped run keeps every micrograph finished before it
        token = CancelToken()
        calls = []
        real = shipped.detect

        def detect(*args, **kwargs):
            if kwargs.get("mode") is None:     # not the scale check's trials on crops
                calls.append(1)
            found = real(*args, **kwargs)
            if len(calls) == 2:
                token.cancel()                 # the next micrograph sees the cancel
            return found

        shipped.detect = detect
        try:
            cancelled = run_detection(project, ms, shipped, cancel=token)
        finally:
            del shipped.detect
        assert cancelled.status == "cancelled" and len(cancelled.processed) == 2
        assert len(project.detected_micrograph_ids(cancelled.run_id)) == 2
