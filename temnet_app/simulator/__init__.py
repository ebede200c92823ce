"""The TEM micrograph simulator: pelleted HIV-1 thin sections with exact labels (demo project,
training sets, tests). Built on :mod:`temnet_app.core` only."""

from temnet_app.simulator.simulate import (PRESETS, Preset, SimulatedMicrograph, SimulationParams,
                                           derived_seed, preset_params, simulate, simulate_set,
                                           write_tiff)
from temnet_app.simulator.sizes import measured_sizes

__all__ = ["PRESETS", "Preset", "SimulatedMicrograph", "SimulationParams", "derived_seed",
           "measured_sizes", "preset_params", "simulate", "simulate_set", "write_tiff"]
