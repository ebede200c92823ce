"""About TEMNet Studio (citing the TEMNet paper) and the keyboard shortcuts."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout

from temnet_app import __version__

PAPER = ("J.S. Rey, W. Li, A.J. Bryer, H. Beatson, C. Lantz, A.N. Engelman, J.R. Perilla. "
         "Deep-learning in-situ classification of HIV-1 virion morphology. Computational and "
         "Structural Biotechnology Journal (2021).")
DOI = "10.1016/j.csbj.2021.10.001"


def about_text() -> str:
    return (f"<h2>TEMNet Studio {html.escape(__version__)}</h2>"
            "<p>Finds HIV-1 virions in thin-section TEM micrographs and classifies each as "
            "mature, immature or eccentric.</p>"
            f"<p>The detector follows the TEMNet paper:<br><i>{html.escape(PAPER)}</i><br>"
            f"doi: <a href='https://doi.org/{DOI}'>{DOI}</a></p>"
            "<p>Please cite the paper when you publish counts made with this program.</p>"
            "<p>Licence: Apache-2.0.</p>")


def show_about(parent) -> None:
    QMessageBox.about(parent, "About TEMNet Studio", about_text())


class ShortcutsDialog(QDialog):
    """A table of every action that has a keyboard shortcut."""

    def __init__(self, rows: list[tuple[str, str]], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        body = "".join(f"<tr><td style='padding:2px 16px 2px 0'><b>{html.escape(keys)}</b></td>"
                       f"<td>{html.escape(text)}</td></tr>" for keys, text in rows)
        view = QTextBrowser()
        view.setHtml(f"<table>{body}</table>")
        view.setMinimumSize(460, 420)
        layout.addWidget(view)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
