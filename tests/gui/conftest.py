"""GUI test fixtures: the real main window (offscreen), isolated settings and data folder, a
fresh copy of the demo project per test, and a check that no worker thread outlives a test."""

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from temnet_app.gui.settings import AppSettings
from temnet_app.gui.workers import unfinished_threads
from temnet_app.jobs import build_demo_project


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory) -> Path:
    """The demo project, built once per test session."""
    path = tmp_path_factory.mktemp("demo_source") / "demo" / "demo.temnet"
    build_demo_project(path)
    return path


@pytest.fixture
def demo_project(demo_source, tmp_path) -> Path:
    """A private copy of the demo project (with its micrographs) for one test."""
    target = tmp_path / "demo"
    shutil.copytree(demo_source.parent, target)
    return target / demo_source.name


@pytest.fixture(autouse=True)
def isolated_app_data(tmp_path, monkeypatch):
    """Logs and the GUI's demo project go to a temporary data folder."""
    monkeypatch.setenv("TEMNET_DATA_DIR", str(tmp_path / "appdata"))
    yield
    alive = unfinished_threads()
    for thread in alive:
        thread.quit()
        thread.wait(30_000)
    assert not alive, f"worker threads left running: {[t.objectName() for t in alive]}"


@pytest.fixture
def settings_file(tmp_path) -> Path:
    return tmp_path / "settings.ini"


def make_settings(path: Path, model_confirmed: bool = True) -> AppSettings:
    settings = AppSettings(QSettings(str(path), QSettings.Format.IniFormat))
    if model_confirmed and not settings.model_confirmed():
        settings.set_model_dir(None)   # the shipped model, without asking
    return settings


@pytest.fixture
def make_window(qtbot, settings_file):
    """Build main windows on the test's settings file; each is closed after the test."""
    from temnet_app.gui.app import create_application
    from temnet_app.gui.main_window import MainWindow

    create_application()
    windows = []

    def make(project: Path = None, model_confirmed: bool = True):
        window = MainWindow(make_settings(settings_file, model_confirmed))
        qtbot.addWidget(window)
        with qtbot.waitActive(window):     # window shortcuts need the active window
            window.show()
            window.activateWindow()
        if project is not None:
            window.open_initial(project)
        windows.append(window)
        return window

    yield make
    for window in windows:
        for runner in (window.detection_runner, window.task_runner):
            runner.cancel_and_wait()
        window.session.close()
        window.close()


@pytest.fixture
def window(make_window, demo_project):
    return make_window(demo_project)
