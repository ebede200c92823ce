"""A project's morphology statistics for a detection run, as the stats panel, ``temnet stats``
and ``temnet report`` need them."""

from __future__ import annotations

from typing import Optional, Union

from temnet_app.core.errors import ProjectError


def load_statistics(project, run_id: Optional[Union[int, str]], threshold: float):
    """Statistics of ``project`` for run ``run_id`` (``None``: the latest run with detections;
    ``"newest"``: each micrograph's newest run) at confidence ``threshold``;
    :class:`ProjectError` when there is nothing to summarise. Returns a
    :class:`temnet_app.core.analysis.Statistics`."""
    from temnet_app.core.analysis import compute_statistics, load_statistics_input

    data = load_statistics_input(project, run_id)
    if data.run is None and not any(m.manual_counts is not None for m in data.micrographs):
        raise ProjectError(f"{project.path.name} has no detection run and no manual counts: "
                           f"nothing to summarise (run `temnet detect` first)")
    return compute_statistics(data, threshold)
