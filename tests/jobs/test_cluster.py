"""Detection on a Dask LocalCluster of 2 worker processes: the same detections as one process,
a worker killed mid-run costs nothing (its micrograph is redone elsewhere, each stored once),
and a cancel ends cleanly. The client writes the project; workers load the shipped model."""

import os
import signal
import threading

import numpy as np
import pytest
import tifffile

from temnet_app.core.progress import CancelToken
from temnet_app.core.project import Project
from temnet_app.jobs import load_detector, resolve_model_dir, run_detection

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow
N = 8


@pytest.fixture(scope="module")
def cluster_client():
    from temnet_app.jobs.cluster import open_client

    client, cluster = open_client(workers=2)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "WT"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(N):
        tifffile.imwrite(folder / f"m{i}.tif", rng.integers(60, 190, (900, 1300), np.uint8))
    with Project.create(tmp_path / "p.temnet") as project:
        project.add_folder(folder)
        yield project


def _arrays(project, run_id, m):
    return project.detection_arrays(run_id, m.id)


def test_two_workers_store_exactly_the_single_process_detections(project, cluster_client):
    from temnet_app.jobs.cluster import run_detection_on_cluster

    ms = project.micrographs()
    single = run_detection(project, ms, load_detector(None, "tiled"))
    spread = run_detection_on_cluster(project, ms, cluster_client, resolve_model_dir(None),
                                      "tiled")
    assert spread.status == "complete" and sorted(spread.processed) == sorted(single.processed)
    assert project.run(spread.run_id).settings["mode"] == "tiled"
    for m in ms:
        for a, b in zip(_arrays(project, single.run_id, m), _arrays(project, spread.run_id, m)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-4)
    workers = cluster_client.run(os.getpid)
    assert len(set(workers.values())) == 2 and os.getpid() not in workers.values()


def test_averaging_over_mirrored_copies_reaches_the_workers(tmp_path, cluster_client):
    from temnet_app.jobs.cluster import run_detection_on_cluster
    from temnet_app.simulator import preset_params, simulate

    folder = tmp_path / "sim"
    folder.mkdir()
    for seed in (41, 42):       # virions, so that there is something to compare
        sim = simulate(preset_params("dataset", width=1300, height=900, seed=seed))
        tifffile.imwrite(folder / f"s{seed}.tif", sim.image)
    project = Project.create(tmp_path / "sim.temnet")
    project.add_folder(folder)
    ms = project.micrographs()
    single = run_detection(project, ms, load_detector(None, "whole", True))
    spread = run_detection_on_cluster(project, ms, cluster_client, resolve_model_dir(None),
                                      "whole", flips=True)
    assert project.run(spread.run_id).settings["config"]["flip_average"] is True
    assert sum(len(_arrays(project, spread.run_id, m)[0]) for m in ms) > 0
    for m in ms:
        for a, b in zip(_arrays(project, single.run_id, m), _arrays(project, spread.run_id, m)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-4)
    project.close()


def test_a_worker_killed_mid_run_loses_nothing_and_repeats_nothing(project, cluster_client):
    from temnet_app.jobs.cluster import run_detection_on_cluster

    ms = project.micrographs()
    victims = list(cluster_client.run(os.getpid).values())
    killed = []

    def kill_one(micrograph_id):
        if not killed:
            os.kill(victims[0], signal.SIGKILL)        # its current micrograph goes elsewhere
            killed.append(micrograph_id)

    summary = run_detection_on_cluster(project, ms, cluster_client, resolve_model_dir(None),
                                       "whole", on_stored=kill_one)
    assert killed and summary.status == "complete" and summary.skipped == ()
    assert sorted(summary.processed) == sorted(m.id for m in ms)
    assert len(summary.processed) == len(set(summary.processed)) == N
    assert project.detected_micrograph_ids(summary.run_id) == {m.id for m in ms}
    cluster_client.wait_for_workers(2, timeout=120)    # the nanny restarted the killed one


def test_cancel_ends_cleanly_and_keeps_what_was_stored(project, cluster_client):
    from temnet_app.jobs.cluster import run_detection_on_cluster

    token = CancelToken()
    summary = run_detection_on_cluster(project, project.micrographs(), cluster_client,
                                       resolve_model_dir(None), "whole", cancel=token,
                                       on_stored=lambda mid: token.cancel())
    assert summary.status == "cancelled" and 1 <= len(summary.processed) < N
    assert project.run(summary.run_id).status == "cancelled"
    assert project.detected_micrograph_ids(summary.run_id) == set(summary.processed)
    assert not [t for t in threading.enumerate() if t.name.startswith("temnet-")]
    resumed = run_detection_on_cluster(project, project.micrographs(), cluster_client,
                                       resolve_model_dir(None), "whole",
                                       skip_done_run=summary.run_id)
    assert resumed.status == "complete" and len(resumed.already_done) == len(summary.processed)
    assert project.detected_micrograph_ids(summary.run_id) == {m.id for m in
                                                               project.micrographs()}


def test_a_worker_that_cannot_see_the_file_asks_for_its_bytes(tmp_path):
    """What a worker does (run here in-process): a path it cannot see gives NEED_BYTES; the
    bytes give the same detections as the file."""
    from temnet_app.jobs.cluster import NEED_BYTES, detect_on_worker
    from temnet_app.simulator import preset_params, simulate

    image = tmp_path / "m.tif"
    # a micrograph with virions (on plain noise the default model rightly finds none)
    tifffile.imwrite(image, simulate(preset_params("dataset", width=900, height=700,
                                                   seed=515_002)).image)
    model = str(resolve_model_dir(None).resolve())
    args = (0.561, 900, 700, model, "whole")     # nm per pixel, width, height, model, mode
    assert detect_on_worker(7, str(tmp_path / "elsewhere" / "m.tif"), None, *args) == \
        (7, None, NEED_BYTES)
    _, from_file, reason = detect_on_worker(7, str(image), None, *args)
    _, from_bytes, _ = detect_on_worker(7, "/not/here/m.tif", image.read_bytes(), *args)
    assert reason == "" and len(from_file) > 0
    np.testing.assert_array_equal(from_file, from_bytes)
    bad = detect_on_worker(8, "/not/here/x.tif", b"not an image", *args)
    assert bad[1] is None and "not a TIFF, PNG, JPEG or MRC" in bad[2]
