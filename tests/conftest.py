"""Shared test settings: offscreen Qt, quiet TensorFlow, the shared/ folder beside the repo."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Logs (and the window's settings) of the tests stay out of the user's data folder, in a folder
# removed when the test process ends (child processes the tests start inherit the variable).
if "TEMNET_DATA_DIR" not in os.environ:
    _DATA_DIR = tempfile.mkdtemp(prefix="temnet-test-data-")
    os.environ["TEMNET_DATA_DIR"] = _DATA_DIR
    atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared is missing beside the repository ({SHARED})")
    return SHARED
