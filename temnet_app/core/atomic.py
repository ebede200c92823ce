"""Atomic file writes: write to a temporary file beside the target, fsync, then replace.

A crash or a full disk mid-write leaves the previous file intact, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Union

PathLike = Union[str, os.PathLike]


@contextlib.contextmanager
def atomic_path(target: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    Use it for writers that insist on a file name (matplotlib, tifffile, Keras)::

        with atomic_path("report.pdf") as tmp:
            figure.savefig(tmp, format="pdf")
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, _mode_for(target))
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def remove_stale_temporaries(target: PathLike) -> list[Path]:
    """Delete temporary files left beside ``target`` by a writer that was killed (their
    names ``.<name>.<pid>.<random>.tmp`` carry the writer's process id; files of a live
    process are left alone). Returns what was removed."""
    from temnet_app.core.processes import pid_alive

    target = Path(target)
    removed = []
    prefix = f".{target.name}."
    try:
        candidates = [p for p in target.parent.iterdir()
                      if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except OSError:
        return removed
    for path in candidates:
        pid_text = path.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or pid_alive(int(pid_text)):
            continue
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def atomic_write_bytes(target: PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` atomically; newlines are written as given (no platform translation)."""
    atomic_write_bytes(target, text.encode(encoding))


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets what a plain ``open`` would give.

    (``mkstemp`` creates 0600 files, which would make every export private to its writer.)
    """
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return default_file_mode()


def default_file_mode() -> int:
    """0o666 minus the process umask, read from /proc where available (else 0o022 assumed);
    the umask itself is never changed, so this is safe from any thread."""
    mask = 0o022
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    mask = int(line.split()[1], 8)
                    break
    except (OSError, ValueError, IndexError):
        pass
    return 0o666 & ~mask


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
