"""The micrograph viewer: the image with adjustable levels, the box overlay, the scale bar."""

from temnet_app.gui.viewer.panel import ViewerPanel

__all__ = ["ViewerPanel"]
