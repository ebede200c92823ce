"""The progress / cancel protocol shared by every long job (CLI, GUI worker, tests).

A long job is a plain function taking ``progress(fraction, message)`` (``fraction`` in [0, 1])
and a :class:`CancelToken`. It calls :func:`check_cancel` at each natural step (a window, a
micrograph, a training batch); a cancel raises :class:`~temnet_app.core.errors.Cancelled` there.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

from temnet_app.core.errors import Cancelled

ProgressFn = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores its reports."""


class CancelToken:
    """Thread-safe cancel flag: the GUI thread sets it, the worker thread polls it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def check_cancel(token: Optional[CancelToken]) -> None:
    """Raise :class:`Cancelled` if ``token`` has been cancelled (``None`` never cancels)."""
    if token is not None and token.cancelled:
        raise Cancelled("cancelled by the user")


def scaled(progress: Optional[ProgressFn], start: float, stop: float) -> ProgressFn:
    """A progress callback mapping [0, 1] of a sub-task onto [start, stop] of the whole."""
    outer = progress or no_progress

    def inner(fraction: float, message: str) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        outer(start + (stop - start) * fraction, message)

    return inner
