"""The layering rule of DESIGN.md: core and the simulator import without Qt and TensorFlow, the
detector without Qt, the jobs without Qt and (at module level) without TensorFlow, the GUI's
modules without TensorFlow (it loads in the detection worker, after the window is up)."""

import subprocess
import sys
import textwrap

import pytest

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, pkgutil, sys
    BLOCKED = {blocked!r}
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked import of {{name}}")
            return None
    sys.meta_path.insert(0, Blocker())
    import {package} as pkg
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        __import__(info.name)
    print("imported", pkg.__name__)
    """
)


@pytest.mark.parametrize(
    "package, blocked",
    [
        ("temnet_app.core", ["PySide6", "tensorflow", "keras"]),
        ("temnet_app.simulator", ["PySide6", "tensorflow", "keras"]),
        ("temnet_app.detector", ["PySide6"]),
        ("temnet_app.jobs", ["PySide6", "tensorflow", "keras"]),
        ("temnet_app.gui", ["tensorflow", "keras"]),
    ],
)
def test_package_imports_with_forbidden_libraries_blocked(package, blocked):
    code = BLOCKER.format(blocked=blocked, package=package)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"imported {package}" in result.stdout


def test_blocker_really_blocks():
    code = BLOCKER.format(blocked=["numpy"], package="temnet_app.core")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0 and "blocked import of numpy" in result.stderr


def test_core_and_simulator_import_neither_tensorflow_nor_qt():
    code = ("import sys, temnet_app.core, temnet_app.simulator, temnet_app.core.project, "
            "temnet_app.core.reports\n"
            "heavy = sorted(m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules)\n"
            "print('loaded:', heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "loaded: []"
