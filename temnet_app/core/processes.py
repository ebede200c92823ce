"""Who owns a running job: this process's identity, and whether a recorded owner still lives.

An owner is ``(host, pid, token)``; the token is the process's start time where the system
tells it (Linux ``/proc``), so a pid reused by another program after a crash is not mistaken
for the owner. An owner on another host cannot be asked; it counts as alive while its
heartbeat is younger than :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from typing import Optional

STALE_AFTER_S = 30 * 60


def host_name() -> str:
    return socket.gethostname() or "unknown-host"


def start_token(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else ""."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
        return text[text.rindex(")") + 2:].split()[19]
    except (OSError, ValueError, IndexError):
        return ""


def current_owner() -> tuple[str, int, str]:
    pid = os.getpid()
    return host_name(), pid, start_token(pid)


def describe_owner(host: str, pid: int) -> str:
    """How an owner is shown (and compared): "process 1234 on lab-pc"."""
    return f"process {pid} on {host}"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def owner_alive(host: Optional[str], pid: Optional[int], token: Optional[str],
                heartbeat: Optional[str]) -> bool:
    """Whether the recorded owner of a job may still be working on it."""
    if not host or not pid:
        return False
    if host != host_name():
        return _age_s(heartbeat) < STALE_AFTER_S
    if not pid_alive(int(pid)):
        return False
    return not token or start_token(int(pid)) in ("", token)


def _age_s(stamp: Optional[str]) -> float:
    try:
        when = datetime.fromisoformat(str(stamp))
    except (TypeError, ValueError):
        return float("inf")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - when).total_seconds()
