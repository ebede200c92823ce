"""The project browser: experiments and their micrographs, with counts and marks."""

from temnet_app.gui.browser.panel import BrowserPanel
from temnet_app.gui.browser.tree_model import ProjectTreeModel

__all__ = ["BrowserPanel", "ProjectTreeModel"]
