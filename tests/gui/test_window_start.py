"""Starting the window: the title, the start page, no TensorFlow at start-up, headless
machines, projects that cannot be opened, the exception hook."""

import os
import sqlite3
import subprocess
import sys
import textwrap

from PySide6.QtWidgets import QApplication, QMessageBox

from temnet_app.gui.app import display_problem, log_path, report_exception


def test_window_opens_the_demo_project_without_loading_tensorflow(demo_project, tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from PySide6.QtCore import QSettings
        from temnet_app.gui.app import create_application
        from temnet_app.gui.main_window import MainWindow
        from temnet_app.gui.settings import AppSettings
        app = create_application()
        window = MainWindow(AppSettings(QSettings({str(tmp_path / 's.ini')!r},
                                                  QSettings.Format.IniFormat)))
        window.show()
        window.open_initial(Path({str(demo_project)!r}))
        app.processEvents()
        window.session.set_current(window.session.micrographs[
            window.session.experiments[0].id][0].id)
        app.processEvents()
        print(window.windowTitle())
        print("image", window.viewer.view.has_image)
        print("heavy", sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
        window.close()
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TEMNET_DATA_DIR=str(tmp_path / "d"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines[0] == "demo.temnet — TEMNet Studio"
    assert lines[1:] == ["image True", "heavy []"]


def test_start_page_when_no_project_and_recent_projects_listed(make_window, demo_project):
    window = make_window()
    assert window.stack.currentWidget() is window.start_page
    assert window.windowTitle() == "TEMNet Studio"
    assert not window.actions["detect_selection"].isEnabled()
    assert not window.browser_dock.isVisible() and not window.threshold.isEnabled()
    window.projects.open_path(demo_project)
    assert window.stack.currentWidget() is window.viewer
    assert window.browser_dock.isVisible() and window.counts_dock.isVisible()
    window.close_project()
    assert window.stack.currentWidget() is window.start_page
    items = [window.start_page.recent.item(i).toolTip()
             for i in range(window.start_page.recent.count())]
    assert items == [str(demo_project.resolve())]


def test_open_demo_from_the_start_page_builds_it_in_a_worker(make_window, qtbot, tmp_path):
    window = make_window()
    with qtbot.waitSignal(window.task_runner.stopped, timeout=120_000):
        qtbot.mouseClick(window.start_page.findChild(type(window.cancel_button), "demoButton"),
                         __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.is_open, timeout=10_000)
    assert window.session.project.path == (tmp_path / "appdata" / "demo" / "demo.temnet")
    assert len(window.session.by_id) == 9


def test_last_project_reopens_at_start(make_window, demo_project):
    first = make_window(demo_project)
    first.close()
    second = make_window()
    second.open_initial(None)
    assert second.session.project.path == demo_project.resolve()


def _visible_boxes(qtbot, name):
    found = []

    def check():
        found[:] = [w for w in __import__("PySide6.QtWidgets").QtWidgets.QApplication
                    .topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
                    and w.objectName() == name]
        return bool(found)

    qtbot.waitUntil(check, timeout=5000)
    return found


def test_a_file_that_is_not_a_project_gives_a_dialog(make_window, qtbot, tmp_path):
    window = make_window()
    bogus = tmp_path / "notes.temnet"
    bogus.write_text("this is not a database")
    assert not window.projects.open_path(bogus)
    box = _visible_boxes(qtbot, "errorDialog")[0]
    assert "cannot be opened" in box.text() and "not a TEMNet project" in box.detailedText()
    box.close()
    assert not window.session.is_open


def test_a_newer_project_format_gives_a_dialog(make_window, qtbot, demo_project):
    with sqlite3.connect(demo_project) as conn:
        conn.execute("PRAGMA user_version = 99")
    window = make_window()
    assert not window.projects.open_path(demo_project)
    box = _visible_boxes(qtbot, "errorDialog")[0]
    assert "newer" in box.detailedText()
    box.close()


def test_headless_machine_gets_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "temnet_app", "open"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "temnet open: error: no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so the "
        "window cannot open; use the CLI (temnet --help) or set QT_QPA_PLATFORM=offscreen"]
    assert display_problem() is None  # the tests themselves run offscreen


def test_unexpected_errors_show_a_dialog_with_the_log_path(make_window, qtbot):
    make_window()
    try:
        raise ValueError("a broken slot")
    except ValueError:
        report_exception(*sys.exc_info())
    box = _visible_boxes(qtbot, "exceptionDialog")[0]
    assert "ValueError: a broken slot" in box.text() and str(log_path()) in box.text()
    assert "Traceback" in box.detailedText()
    box.close()


def test_missing_x11_library_is_named_in_one_line(monkeypatch):
    import ctypes

    import temnet_app.gui.app as app

    def refuse(path, *args, **kwargs):
        raise OSError("libxcb-icccm.so.4: cannot open shared object file: No such file")

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(ctypes, "CDLL", refuse)
    problem = app.display_problem()
    assert problem.startswith("cannot use the X11 display: the system library "
                              "libxcb-icccm.so.4 is missing")
    assert "\n" not in problem


def test_a_project_in_a_read_only_folder_opens_read_only(make_window, qtbot, demo_project):
    """The title and the status bar say so; moving the slider saves nothing (and raises no
    error dialog); the project file is unchanged."""
    from read_only_folder import read_only

    before = demo_project.read_bytes()
    with read_only(demo_project.parent):
        window = make_window()
        assert window.projects.open_path(demo_project)
        assert "(read-only)" in window.windowTitle()
        assert "read-only" in window.status.currentMessage()
        window.session.set_threshold(0.8)
        window.session._save_threshold()
        qtbot.wait(200)
        assert not [w for w in QApplication.topLevelWidgets()
                    if isinstance(w, QMessageBox) and w.isVisible()]
        window.session.close()
    assert demo_project.read_bytes() == before
