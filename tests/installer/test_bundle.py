"""The frozen program and the Linux installers, built and installed for real (slow: the
PyInstaller build takes a few minutes). TEMNET_BUNDLE=DIR reuses an existing bundle while
developing; CI builds it from the clean checkout."""

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

import temnet_app

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="the Linux bundle and installers")]

ROOT = Path(__file__).resolve().parents[2]
QUIET = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", QT_QPA_PLATFORM="offscreen")


def run(args, timeout=1800, **kwargs):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=kwargs.pop("env", QUIET), **kwargs)


@pytest.fixture(scope="module")
def bundle() -> Path:
    reuse = os.environ.get("TEMNET_BUNDLE")
    if reuse:
        return Path(reuse)
    result = run(["make", "-C", ROOT, "bundle", f"VENV={sys.prefix}"], timeout=3600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return ROOT / "dist" / "TEMNetStudio"


@pytest.fixture(scope="module")
def releases(bundle, tmp_path_factory):
    """The tarball and the .deb made from ``bundle``."""
    result = run(["sh", ROOT / "installer" / "linux" / "make_dist.sh", temnet_app.__version__],
                 cwd=ROOT, timeout=3600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    dist = ROOT / "dist"
    tarball = next(dist.glob(f"temnet-studio-{temnet_app.__version__}-linux-*.tar.xz"))
    deb = next(dist.glob(f"temnet-studio_{temnet_app.__version__}_*.deb"))
    return tarball, deb


def assert_self_test(result):
    out = result.stdout
    assert result.returncode == 0, (out + result.stderr)[-4000:]
    for step in ("window", "micrographs", "detection", "threshold", "export"):
        assert f"ok {step} (" in out, out
    assert "self-test passed in" in out
    assert "AutoGraph" not in result.stderr


def test_frozen_self_test_and_cli(bundle):
    assert_self_test(run([bundle / "TEMNetStudio", "--self-test"]))
    version = run([bundle / "temnet", "--version"])
    assert version.returncode == 0 and temnet_app.__version__ in version.stdout
    listing = run([bundle / "temnet", "--help"])
    for command in ("detect", "train", "self-test", "info", "report"):
        assert command in listing.stdout


def _em_writers():
    """The test-side DM / SER writers of tests/core/micrographs (not an importable package)."""
    where = ROOT / "tests" / "core" / "micrographs" / "em_writers.py"
    spec = importlib.util.spec_from_file_location("em_writers_for_bundle", where)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frozen_program_names_the_optional_dm_reader(bundle, tmp_path):
    """rosettasciio (GPL-3.0) is not in the Apache-2.0 bundle: a new project from a folder
    holding a DM3, a TIA SER (+ EMI) and a TIFF adds the TIFF and skips the other two, each
    with one line naming the missing optional reader, and no traceback."""
    import tifffile

    writers = _em_writers()
    folder = tmp_path / "scope"
    folder.mkdir()
    grey = np.random.default_rng(0).integers(20, 230, (64, 80), dtype=np.uint8)
    writers.write_dm(folder / "a.dm3", grey.astype(np.uint16) * 100, scale=0.5, units="nm",
                     image_tags=writers.microscope_tags(indicated=25000))
    writers.write_ser(folder / "b_1.ser", grey, pixel_m=0.56e-9)
    writers.write_emi(folder / "b.emi", [writers.emi_object_xml(magnification=19500)])
    tifffile.imwrite(folder / "c.tif", grey)
    result = run([bundle / "temnet", "new", tmp_path / "p.temnet", folder], timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output, output[-4000:]
    assert "added 1 micrograph(s), skipped 2" in result.stdout, output
    for name in ("a.dm3", "b_1.ser"):
        lines = [line for line in result.stderr.splitlines() if line.startswith("skipped") and
                 name in line]
        assert len(lines) == 1 and "optional reader rosettasciio (GPL-3.0)" in lines[0], output
        assert "No module named 'rsciio'" in lines[0], output     # not in the bundle


def test_bundle_holds_no_path_of_the_build_machine(bundle):
    needle = str(ROOT).encode()
    found = []
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 60_000_000:
            if needle in path.read_bytes():
                found.append(str(path.relative_to(bundle)))
    assert not found, found[:10]
    assert not list(bundle.rglob("tensorboard")) and not list(bundle.rglob("*profiler_plugin*.so"))


def test_deb_installs_runs_and_leaves_nothing_behind(releases):
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("installing a .deb needs root and apt-get (CI has both)")
    _, deb = releases
    run(["apt-get", "remove", "--purge", "-y", "temnet-studio"])
    installed = run(["apt-get", "install", "-y", "--no-install-recommends", deb])
    assert installed.returncode == 0, installed.stderr[-3000:]
    try:
        files = run(["dpkg", "-L", "temnet-studio"]).stdout.split()
        assert "/opt/temnet-studio/TEMNetStudio" in files
        assert_self_test(run(["/opt/temnet-studio/temnet", "self-test"]))
        assert_self_test(run(["temnet", "self-test"]))                 # /usr/bin/temnet
        desktop = run(["desktop-file-validate",
                       "/usr/share/applications/temnet-studio.desktop"])
        assert desktop.returncode == 0 and not desktop.stdout.strip(), desktop.stdout
        mime = run(["xmllint", "--noout", "/usr/share/mime/packages/temnet-studio.xml"])
        assert mime.returncode == 0, mime.stderr
        assert Path("/usr/share/mime/application/x-temnet-project.xml").is_file()
        assert Path("/usr/share/icons/hicolor/256x256/apps/temnet-studio.png").is_file()
    finally:
        removed = run(["apt-get", "remove", "--purge", "-y", "temnet-studio"])
    assert removed.returncode == 0, removed.stderr[-3000:]
    left = [f for f in files if os.path.lexists(f) and not os.path.isdir(f)]
    assert not left, left[:10]
    assert not Path("/opt/temnet-studio").exists()
    assert not Path("/usr/share/mime/application/x-temnet-project.xml").exists()


def test_install_sh_into_a_home_and_uninstall_sh_back_out(releases, tmp_path):
    tarball, _ = releases
    with tarfile.open(tarball) as archive:
        archive.extractall(tmp_path, filter="tar")
    release = next(tmp_path.glob("temnet-studio-*"))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in QUIET.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    result = run(["sh", release / "install.sh"], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    data = home / ".local" / "share"
    app = home / ".local" / "opt" / "temnet-studio"
    desktop = data / "applications" / "temnet-studio.desktop"
    assert (app / "TEMNetStudio").is_file() and desktop.is_file()
    assert f"Exec={app}/TEMNetStudio %f" in desktop.read_text()
    if shutil.which("desktop-file-validate"):
        assert run(["desktop-file-validate", desktop]).returncode == 0
    assert (data / "mime" / "packages" / "temnet-studio.xml").is_file()
    assert (data / "icons" / "hicolor" / "48x48" / "apps" / "temnet-studio.png").is_file()
    version = run([home / ".local" / "bin" / "temnet", "--version"], env=env)
    assert version.returncode == 0 and temnet_app.__version__ in version.stdout
    result = run(["sh", app / "uninstall.sh"], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    left = [p for p in home.rglob("*") if not p.is_dir() and
            ("temnet" in p.name.lower() or "TEMNetStudio" in str(p))]
    assert not left, left
    assert not app.exists() and not (home / ".local" / "bin" / "temnet").exists()
