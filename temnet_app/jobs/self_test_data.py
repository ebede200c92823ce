"""Data for the self-test of an installed TEMNet Studio: a folder of simulated 4000x2620
micrographs (the simulator ships with the program, so no file is needed)."""

from __future__ import annotations

from pathlib import Path


def write_self_test_micrographs(folder, n: int = 2, seed: int = 20260) -> list[Path]:
    """``n`` simulated wild-type micrographs at 30,000x in ``folder`` (with their labels)."""
    from temnet_app.simulator import simulate_set

    return simulate_set(folder, n, preset="WT", seed=seed)
