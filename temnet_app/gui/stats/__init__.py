"""Numbers next to the image: the class-count table (shown micrograph, experiment, project)
and the statistics dock (morphology histogram, agreement table, score histogram)."""

from temnet_app.gui.stats.counts_panel import CountsPanel

__all__ = ["CountsPanel", "StatisticsPanel"]


def __getattr__(name: str):
    # the statistics panel brings matplotlib and pandas: imported once the window is up
    if name == "StatisticsPanel":
        from temnet_app.gui.stats.statistics_panel import StatisticsPanel

        return StatisticsPanel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
