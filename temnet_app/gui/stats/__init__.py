"""Numbers next to the image: the class-count table of the shown micrograph, its experiment
and the project at the confidence threshold."""

from temnet_app.gui.stats.counts_panel import CountsPanel

__all__ = ["CountsPanel"]
