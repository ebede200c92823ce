"""The embedded demo project, built once per test session (about 10 s)."""

import subprocess
import sys

import pytest

from temnet_app.core.annotations import read_via_csv
from temnet_app.core.project import Project
from temnet_app.jobs.demo import DEMO_EXPERIMENTS, build_demo_project


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.temnet"
    messages = []
    build_demo_project(path, progress=lambda f, m: messages.append((f, m)))
    return path, messages


def test_demo_has_three_experiments_of_three_annotated_micrographs(demo):
    path, messages = demo
    assert messages[-1] == (1.0, "demo project ready")
    with Project.open(path) as project:
        experiments = project.experiments()
        assert [e.name for e in experiments] == [name for name, *_ in DEMO_EXPERIMENTS]
        for experiment in experiments:
            micrographs = project.micrographs(experiment.id)
            assert len(micrographs) == 3
            truth = read_via_csv(path.parent / experiment.name / "annotations.csv")
            for m in micrographs:
                # the simulated info band (bottom ~10%) is found and cropped on import
                assert m.width == 4000 and 2300 < m.height < 2620
                assert project.image_path(m).is_file()
                boxes = project.manual_boxes(m.id)
                assert boxes == truth[m.name] and len(boxes) >= 20
                assert project.magnification(m) == 30000.0
    # no staging folder is left behind
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        [path.name] + [name for name, *_ in DEMO_EXPERIMENTS])


def test_demo_class_mix_follows_its_conditions(demo):
    path, _ = demo
    with Project.open(path) as project:
        by_name = {e.name: e for e in project.experiments()}
        counts = {}
        for name, experiment in by_name.items():
            ids = [b.class_id for m in project.micrographs(experiment.id)
                   for b in project.manual_boxes(m.id)]
            counts[name] = {c: ids.count(c) / len(ids) for c in (1, 2, 3)}
    assert counts["PR D25A"][3] == 1.0                      # all immature
    assert counts["WT NL4-3"][2] > 0.6                      # mostly mature
    assert counts["IN N184L"][1] > 0.5                      # mostly eccentric


def test_demo_is_built_once_and_cli_summarises_it(demo):
    path, _ = demo
    before = path.stat().st_mtime_ns
    assert build_demo_project(path) == path
    assert path.stat().st_mtime_ns == before
    run = subprocess.run([sys.executable, "-m", "temnet_app", "demo", "--out", str(path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "already exists" in run.stdout
    run = subprocess.run([sys.executable, "-m", "temnet_app", "info", str(path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "PR D25A: 3 micrographs" in run.stdout
    assert "immature" in run.stdout and "detection runs: 0" in run.stdout
