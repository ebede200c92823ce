"""Making a folder unwritable in a test, also for root (CI runs as root, who ignores
permissions)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest


@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` made unwritable for this process for the duration: by permissions for an
    ordinary user; for root (who ignores permissions, as CI runs) by the immutable attribute
    (chattr +i) or else a read-only bind mount. Skips the test when none is possible."""
    folder = Path(folder)
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield folder
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)],
                                                 capture_output=True).returncode == 0:
        try:
            yield folder
        finally:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        return
    mounted = subprocess.run(f"mount --bind '{folder}' '{folder}' && "
                             f"mount -o remount,bind,ro '{folder}'", shell=True,
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot make a folder read-only for root here (no chattr, no mount)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)
