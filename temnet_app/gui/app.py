"""The one place that sets up the application: names for QSettings, the icon, logging to a
file under the user's data folder, and a global exception hook that shows a dialog (message,
details, the log file's path) instead of letting the window die.

``run_app(project)`` is what ``temnet`` and ``temnet open`` call.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import Optional

APP_NAME = "TEMNet Studio"
ORGANISATION = "TEMNet Studio"
LOG_FILE = "temnet-studio.log"
_log = logging.getLogger("temnet_app.gui")


class NoDisplayError(RuntimeError):
    """There is no screen to open the window on."""


def display_problem() -> Optional[str]:
    """Why no window can open here (one line), or None. Only Linux/BSD without X11 or
    Wayland and without an explicit Qt platform is refused; Windows and macOS always have
    a screen."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return None
    if os.environ.get("WAYLAND_DISPLAY"):
        return None
    if os.environ.get("DISPLAY"):
        return _x11_problem()
    return ("no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so the window cannot "
            "open; use the CLI (temnet --help) or set QT_QPA_PLATFORM=offscreen")


XCB_PACKAGES = "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0"


def _x11_problem() -> Optional[str]:
    """Qt aborts the process when its X11 plugin cannot load; load the plugin's library first
    so that a missing system library becomes one line that names it."""
    import ctypes

    import PySide6

    library = Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6XcbQpa.so.6"
    if not library.exists():
        return None
    try:
        ctypes.CDLL(str(library))
    except OSError as error:
        missing = str(error).split(":")[0]
        return (f"cannot use the X11 display: the system library {missing} is missing "
                f"(on Debian or Ubuntu: apt install {XCB_PACKAGES}); the CLI works without it")
    return None


def data_dir() -> Path:
    """The user's data folder for TEMNet Studio (``TEMNET_DATA_DIR`` overrides it); the same
    folder Qt's AppDataLocation names, computed without Qt so that the CLI shares it."""
    from temnet_app.core.logfile import user_data_dir

    return user_data_dir()


def log_dir() -> Path:
    return data_dir() / "logs"


def log_path() -> Path:
    return log_dir() / LOG_FILE


def setup_logging() -> Path:
    """Log INFO and above to a rotating file in :func:`log_dir` (created); returns its path."""
    path = log_path()
    root = logging.getLogger()
    if any(getattr(h, "_temnet", False) for h in root.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:  # a read-only home must not stop the window
        print(f"temnet: cannot write the log file {path}: {exc}", file=sys.stderr)
        handler = logging.StreamHandler(sys.stderr)
    handler._temnet = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    return path


def configure_names() -> None:
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(ORGANISATION)
    from temnet_app import __version__

    QCoreApplication.setApplicationVersion(__version__)


def create_application(argv: Optional[list[str]] = None):
    """The QApplication (the existing one when there is one, e.g. under pytest-qt), named,
    with the app icon and the exception hook installed."""
    from PySide6.QtWidgets import QApplication

    from temnet_app.gui.style import app_icon

    configure_names()
    app = QApplication.instance() or QApplication(argv if argv is not None else [sys.argv[0]])
    app.setWindowIcon(app_icon())
    app.setApplicationDisplayName(APP_NAME)
    install_exception_hook()
    return app


# ----------------------------------------------------------------- exception hook
_showing = threading.local()


def report_exception(exc_type, exc, tb) -> None:
    """Log an unexpected exception and, in the GUI thread, show it in a dialog."""
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    _log.error("unexpected error\n%s", details)
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None or QThread.currentThread() is not app.thread() or \
            getattr(_showing, "active", False):
        print(details, file=sys.stderr)
        return
    _showing.active = True
    try:
        from temnet_app.gui.dialogs.messages import show_exception

        show_exception(f"{exc_type.__name__}: {exc}", details, log_path())
    finally:
        _showing.active = False


def install_exception_hook() -> None:
    if getattr(sys.excepthook, "_temnet", False):
        return

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        report_exception(exc_type, exc, tb)

    hook._temnet = True  # type: ignore[attr-defined]
    sys.excepthook = hook


# ----------------------------------------------------------------- entry point
def run_app(project: Optional[Path] = None, argv: Optional[list[str]] = None) -> int:
    """Open the main window (on ``project``, else the last project, else the start page) and
    run the event loop; returns the exit status."""
    problem = display_problem()
    if problem:
        raise NoDisplayError(problem)
    log = setup_logging()
    app = create_application(argv)
    _log.info("TEMNet Studio starting (log %s)", log)
    from temnet_app.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    window.open_initial(project)
    status = app.exec()
    _log.info("TEMNet Studio closed (status %s)", status)
    return int(status)
