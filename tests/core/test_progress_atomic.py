import os

import pytest

from temnet_app.core.atomic import atomic_path, atomic_write_text
from temnet_app.core.errors import Cancelled
from temnet_app.core.progress import CancelToken, check_cancel, scaled
from temnet_app.core.units import magnification_from_pixel_size, nm_per_pixel


def test_cancel_token():
    token = CancelToken()
    check_cancel(token)
    check_cancel(None)
    token.cancel()
    with pytest.raises(Cancelled):
        check_cancel(token)


def test_scaled_progress_maps_and_clamps():
    seen = []
    inner = scaled(lambda f, m: seen.append((round(f, 6), m)), 0.5, 0.75)
    inner(0.0, "a"); inner(0.5, "b"); inner(2.0, "c")
    assert seen == [(0.5, "a"), (0.625, "b"), (0.75, "c")]


def test_atomic_write_replaces_and_failure_keeps_old(tmp_path):
    target = tmp_path / "out.csv"
    atomic_write_text(target, "first\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "first\n"
    assert os.listdir(tmp_path) == ["out.csv"]  # no temp file left behind
    atomic_write_text(target, "second\n")
    assert target.read_text() == "second\n"


def test_pixel_size_scales_inversely_with_magnification():
    assert nm_per_pixel(30000) == pytest.approx(0.561)
    assert nm_per_pixel(20000) == pytest.approx(0.8415)
    assert magnification_from_pixel_size(0.6732) == pytest.approx(25000)
    with pytest.raises(ValueError):
        nm_per_pixel(0)


def test_atomic_write_uses_umask_for_new_and_keeps_mode_of_existing(tmp_path):
    old = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.txt"
        atomic_write_text(fresh, "x")
        assert fresh.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
    existing = tmp_path / "existing.txt"
    existing.write_text("old")
    existing.chmod(0o604)
    atomic_write_text(existing, "new")
    assert existing.stat().st_mode & 0o777 == 0o604
