"""Peak memory and time of `temnet predict` on the micrographs that used to exhaust memory
(issue "Robustness", defect 1), each in a fresh process: status, seconds, peak RSS, the last
line it printed.

    python benchmarks/memory_bounds.py [--keep DIR] [--skip-huge]

Cases: a 1000x800 TIFF labelled "Direct Mag: 1000x"; a 4000x2620 micrograph at
--magnification 5000; a 39,936 x 39,936 zlib TIFF (1.6 G pixels, just under the reader's
limit) at 30,000x and at --magnification 1000; and the ordinary 4000x2620 micrograph at
30,000x for comparison. Linux only (peak RSS from wait4).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_inputs(folder: Path, huge: bool) -> dict[str, Path]:
    import numpy as np
    import tifffile

    from temnet_app.simulator import preset_params, simulate

    normal = simulate(preset_params("dataset", seed=3, width=4000, height=2620))
    files = {"normal": folder / "normal.tif", "lowmag": folder / "lowmag_1000x.tif"}
    tifffile.imwrite(files["normal"], normal.image, description="Direct Mag: 30000x")
    small = simulate(preset_params("dataset", seed=4, width=1000, height=800)).image
    tifffile.imwrite(files["lowmag"], small, description="Direct Mag: 1000x")
    if huge:
        files["huge"] = folder / "huge_39936.tif"
        tifffile.imwrite(files["huge"], np.full((39936, 39936), 128, np.uint8),
                         compression="zlib", tile=(1024, 1024))
    return files


def run(command: list[str]) -> tuple[int, float, float, str]:
    """(exit status, seconds, peak RSS in MB, last output line) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith("[")]
    return process.returncode, seconds, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="keep the inputs in DIR")
    parser.add_argument("--skip-huge", action="store_true",
                        help="leave out the 1.6 G-pixel micrograph (it takes minutes)")
    parser.add_argument("--make-inputs", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_inputs is not None:
        make_inputs(args.make_inputs, huge=not args.skip_huge)
        return 0
    folder = args.keep or Path(tempfile.mkdtemp(prefix="temnet-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    # Made in another process: a child started from this one would inherit its peak RSS.
    subprocess.run([sys.executable, __file__, "--make-inputs", str(folder),
                    *(["--skip-huge"] if args.skip_huge else [])], check=True)
    files = {"normal": folder / "normal.tif", "lowmag": folder / "lowmag_1000x.tif"}
    if not args.skip_huge:
        files["huge"] = folder / "huge_39936.tif"
    temnet = [sys.executable, "-m", "temnet_app", "predict"]
    cases = [("4000x2620 at 30,000x (reference)", [files["normal"]]),
             ("1000x800, file says 1,000x", [files["lowmag"]]),
             ("4000x2620 at --magnification 5000", [files["normal"], "--magnification", "5000"])]
    if "huge" in files:
        cases += [("39936x39936 zlib TIFF at 30,000x", [files["huge"]]),
                  ("39936x39936 at --magnification 1000", [files["huge"], "--magnification",
                                                           "1000"])]
    print(f"{'case':<40}{'exit':>5}{'seconds':>9}{'peak RSS':>11}  last line")
    for name, extra in cases:
        out = folder / "out"
        status, seconds, rss, last = run([*temnet, *map(str, extra), "--out", str(out)])
        print(f"{name:<40}{status:>5}{seconds:>9.1f}{rss:>8,.0f} MB  {last[:110]}", flush=True)
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
