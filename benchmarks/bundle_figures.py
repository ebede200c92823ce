"""Figures of the frozen program (printed): sizes of the bundle, the tarball and the .deb, what
pruning saved, and launch and first-detection times of the frozen program next to the same
from source, measured with the self-test (median of --runs).

Run after ``make dist-linux``: ``python benchmarks/bundle_figures.py [--runs 3]``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "TEMNetStudio"


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def timed_self_test(command: list[str]) -> tuple[float, float, float]:
    """(launch to window shown, time to the first micrograph's detections, total) in s."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", QT_QPA_PLATFORM="offscreen")
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env)
    shown = first = None
    for line in process.stdout:
        if line.startswith("ok window") and shown is None:
            shown = time.perf_counter() - start
        match = re.search(r"boxes after (\d+\.\d+) s", line)
        if match:
            first = float(match.group(1))
    if process.wait() != 0 or shown is None or first is None:
        raise SystemExit(f"self-test failed: {' '.join(command)}")
    return shown, first, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (BUNDLE / "TEMNetStudio").exists():
        raise SystemExit("no bundle: run make bundle (or make dist-linux) first")
    print(f"bundle dist/TEMNetStudio unpacked: {mb(size(BUNDLE))}")
    for pattern in ("temnet-studio-*-linux-*.tar.xz", "temnet-studio_*.deb"):
        for path in sorted((ROOT / "dist").glob(pattern)):
            print(f"{path.name}: {mb(size(path))}")
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    left_out = {
        "TensorFlow remote-profiler client": site / "tensorflow" / "python" / "profiler"
        / "internal" / "_pywrap_profiler_plugin.so",
        "Qt QML / translations / other plugins": None,
    }
    qt = site / "PySide6" / "Qt"
    qt_parts = [qt / "qml", qt / "translations"] + [qt / "plugins" / p for p in (
        "sqldrivers", "qmltooling", "qmllint", "designer", "tls", "networkinformation",
        "wayland-graphics-integration-server")]
    left_out["Qt QML / translations / other plugins"] = qt_parts
    for label, what in left_out.items():
        paths = what if isinstance(what, list) else [what]
        print(f"left out, {label}: {mb(sum(size(p) for p in paths if p.exists()))}")
    stripped = sum(size(p) for p in (site / "tensorflow").rglob("*.so*")
                   if "include" not in p.parts)
    kept = sum(size(p) for p in (BUNDLE / "_internal" / "tensorflow").rglob("*.so*"))
    print(f"TensorFlow libraries: {mb(stripped)} installed, {mb(kept)} in the bundle "
          f"(symbol tables stripped)")
    rows = {"frozen": [str(BUNDLE / "TEMNetStudio"), "--self-test"],
            "source": [sys.executable, "-m", "temnet_app", "self-test"]}
    for name, command in rows.items():
        runs = [timed_self_test(command) for _ in range(args.runs)]
        shown, first, total = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{name}: launch to window shown {shown:.2f} s; first 4000x2620 micrograph "
              f"detected {first:.1f} s after the run started (TensorFlow and model load "
              f"included); whole self-test {total:.1f} s (medians of {args.runs})")


if __name__ == "__main__":
    main()
