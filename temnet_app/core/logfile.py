"""Where TEMNet Studio keeps its logs, and how the command line keeps native libraries' chatter
(TensorFlow's C++ logging, absl, CUDA probes) out of the user's terminal.

The folder is the user's data folder (``TEMNET_DATA_DIR`` overrides it); it matches what Qt's
``AppDataLocation`` gives the window, so the window and the CLI log side by side:
Linux ``~/.local/share/TEMNet Studio/TEMNet Studio/logs``, Windows
``%APPDATA%/TEMNet Studio/TEMNet Studio/logs``, macOS
``~/Library/Application Support/TEMNet Studio/TEMNet Studio/logs``.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from pathlib import Path
from typing import Optional

APP_FOLDER = ("TEMNet Studio", "TEMNet Studio")      # organisation, application
CLI_LOG = "temnet-cli.log"
MAX_LOG_BYTES = 2_000_000


def user_data_dir() -> Path:
    """The user's data folder for TEMNet Studio (not created here)."""
    override = os.environ.get("TEMNET_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base.joinpath(*APP_FOLDER)


def log_dir() -> Path:
    return user_data_dir() / "logs"


def _rotate(path: Path) -> None:
    """Keep one previous log (``.1``) once the file passes :data:`MAX_LOG_BYTES`."""
    try:
        if path.stat().st_size > MAX_LOG_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except OSError:
        pass


class NativeOutputDiversion:
    """Send file descriptor 2 (where C/C++ libraries write) to ``log`` while Python's
    ``sys.stderr`` keeps writing to the terminal; :meth:`restore` undoes it.

    Only done when ``sys.stderr`` really is descriptor 2 (not under a test's capture)."""

    def __init__(self, log: Path):
        self.log = Path(log)
        self._saved_fd: Optional[int] = None
        self._saved_stream = None

    def start(self) -> bool:
        try:
            if sys.stderr is None or sys.stderr.fileno() != 2:
                return False
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return False
        try:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            _rotate(self.log)
            target = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError:
            return False
        sys.stderr.flush()
        self._saved_fd = os.dup(2)
        os.dup2(target, 2)
        os.close(target)
        self._saved_stream = sys.stderr
        sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(self._saved_fd), "wb", buffering=0),
                                      encoding=self._saved_stream.encoding or "utf-8",
                                      errors="backslashreplace", line_buffering=True,
                                      write_through=True)
        return True

    def restore(self) -> None:
        if self._saved_fd is None:
            return
        try:
            sys.stderr.flush()
            sys.stderr.close()
        except (OSError, ValueError):
            pass
        os.dup2(self._saved_fd, 2)
        os.close(self._saved_fd)
        sys.stderr = self._saved_stream
        self._saved_fd = None


def setup_cli_logging(verbose: bool = False) -> Optional[Path]:
    """Log the CLI's own records (and Python warnings) to ``temnet-cli.log``; with ``verbose``
    they also go to the terminal. Returns the log's path, or None when it cannot be written."""
    path = log_dir() / CLI_LOG
    root = logging.getLogger()
    if any(getattr(h, "_temnet_cli", False) for h in root.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _rotate(path)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler._temnet_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.captureWarnings(True)
    return path


def remove_cli_logging() -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_temnet_cli", False)]:
        root.removeHandler(handler)
        handler.close()
    logging.captureWarnings(False)
