"""The statistics dock: the per-experiment morphology histogram (predicted next to manual, SD
error bars, virions / micrographs), the agreement table (RMSE in percentage points,
chi-square p, precision / recall / F1 where manual boxes exist) and the score histogram with
the threshold marked. The figures come from the same ``core`` builders as the PDF report.

The project's data are read once (again after detections, annotations or micrographs
change); moving the slider only re-counts, after the drag pauses, so dragging never waits
for a redraw. Clicking an experiment's bars selects it in the browser.
"""

from __future__ import annotations

import math
import textwrap
import time
import warnings

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QHeaderView, QLabel, QSplitter, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from temnet_app.core.analysis import (agreement_table, compute_statistics, format_p,
                                      load_statistics_input)
from temnet_app.core.reports import morphology_figure, score_histogram_figure
from temnet_app.gui.session import Session

# a dock squeezed to a few pixels cannot fit the plots; matplotlib says so on every draw
warnings.filterwarnings("ignore", message="constrained_layout not applied",
                        category=UserWarning)
RELOAD_MS = 400        # after a data change
RECOUNT_MS = 180       # after the slider stops moving
LEGEND_PER_ROW = 5     # the three HIV classes, predicted and manual fit in one row


class StatisticsPanel(QWidget):
    """The dock's content; ``experimentClicked(name)`` when a bar group is clicked."""

    experimentClicked = Signal(str)

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("statisticsPanel")
        self.session = session
        self.data = None
        self.stats = None
        self.last_refresh_ms = 0.0
        self._stale = True
        self._paused = False
        self._scores_stale = False
        self.morphology = Figure(figsize=(7, 3.2))  # fixed margins: faster than a layout engine
        self.scores = Figure(figsize=(4.5, 3.2))   # fixed margins: half the drawing time
        self.morphology_canvas = FigureCanvasQTAgg(self.morphology)
        self.scores_canvas = FigureCanvasQTAgg(self.scores)
        for canvas in (self.morphology_canvas, self.scores_canvas):
            canvas.setMinimumSize(220, 180)
        self.morphology_canvas.setToolTip("Click an experiment's bars to select it")
        self.morphology_canvas.mpl_connect("button_press_event", self._clicked)
        self.table = QTableWidget(0, 0, self)
        self.table.setObjectName("agreementTable")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.
                                                           ResizeToContents)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setObjectName("statisticsNotes")
        middle = QWidget()
        column = QVBoxLayout(middle)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("<b>Agreement with manual counts</b> (paired micrographs; "
                                "RMSE in percentage points; detection metrics at IoU 0.5)"))
        column.addWidget(self.table, 1)
        column.addWidget(self.notes)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(middle, "Agreement")
        self.tabs.addTab(self.scores_canvas, "Confidence scores")
        self.tabs.currentChanged.connect(lambda _: self._draw_scores_if_shown())
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.morphology_canvas)
        splitter.addWidget(self.tabs)
        splitter.setSizes([560, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_MS)
        self._reload_timer.timeout.connect(self.reload)
        self._recount_timer = QTimer(self, singleShot=True, interval=RECOUNT_MS)
        self._recount_timer.timeout.connect(self.recount)
        session.projectChanged.connect(self._data_changed)
        session.structureChanged.connect(self._data_changed)
        session.classesChanged.connect(self._data_changed)      # names, colours, columns
        session.detectionsStored.connect(lambda _: self._data_changed())
        session.manualChanged.connect(lambda _: self._data_changed())
        session.thresholdChanged.connect(lambda _: self._recount_timer.start())

    # ----------------------------------------------------------------- refresh
    def _data_changed(self) -> None:
        self._stale = True
        if self.isVisible() and not self._paused:
            self._reload_timer.start()

    def set_paused(self, paused: bool) -> None:
        """While a detection runs the panel waits (its refresh would interrupt the window
        after every micrograph); it catches up when the run ends."""
        self._paused = paused
        self.notes.setText("Statistics update when the detection run ends."
                           if paused else self.notes.text())
        if not paused and self._stale and self.isVisible():
            self._reload_timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._reload_timer.start(0)

    def reload(self) -> None:
        """Read the project's data again, then re-count."""
        if self._paused:
            return
        project = self.session.project
        self._stale = False
        self.data = load_statistics_input(project, "newest") if project is not None else None
        self.recount()

    def recount(self) -> None:
        """Re-count at the session's threshold and redraw (time in ``last_refresh_ms``)."""
        if not self.isVisible() and not self._stale:
            return
        started = time.perf_counter()
        if self.data is None:
            self.stats = None
            self._show_empty("Open a project to see its statistics.")
        elif self.data.run is None and not any(m.manual_counts is not None
                                               for m in self.data.micrographs):
            self.stats = None
            self._show_empty("No detections and no manual counts yet: run the detector "
                             "(Run menu) or annotate micrographs.")
        else:
            self.stats = compute_statistics(self.data, self.session.threshold)
            self._draw()
        self.last_refresh_ms = (time.perf_counter() - started) * 1000

    def _show_empty(self, text: str) -> None:
        for figure, canvas in ((self.morphology, self.morphology_canvas),
                               (self.scores, self.scores_canvas)):
            figure.clear()
            figure.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=9)
            canvas.draw_idle()
        self.table.setRowCount(0)
        self.notes.setText("")

    def _draw(self) -> None:
        stats, scheme = self.stats, self.stats.scheme
        morphology_figure(stats.per_experiment, scheme, figure=self.morphology,
                          title="Morphology per experiment")
        rows = _fit_to_panel(self.morphology, morphology=True)
        self.morphology.subplots_adjust(left=0.16, right=0.98, top=0.84 - 0.07 * (rows - 1),
                                        bottom=0.17)
        self.morphology_canvas.draw_idle()
        self._scores_stale = True
        self._draw_scores_if_shown()
        self._fill_table()
        self.notes.setText(" · ".join(stats.notes))

    def _draw_scores_if_shown(self) -> None:
        """The score histogram is drawn when its tab is on show (drawing it hidden would
        double the cost of every refresh)."""
        if not self._scores_stale or self.stats is None or \
                self.tabs.currentWidget() is not self.scores_canvas:
            return
        stats = self.stats
        scores, classes = stats.data.scores()
        floor = stats.run.score_floor if stats.run is not None else 0.0
        score_histogram_figure(scores, classes, stats.threshold, stats.scheme, floor=floor,
                               figure=self.scores, title="Detection confidence")
        _fit_to_panel(self.scores, morphology=False)
        self.scores.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.2)
        self.scores_canvas.draw_idle()
        self._scores_stale = False

    def _fill_table(self) -> None:
        table = agreement_table(self.stats.per_experiment)
        columns = [c for c in table.columns if c not in ("dof", "note")]
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setRowCount(len(table))
        for row, record in enumerate(table[columns].itertuples(index=False)):
            for col, value in enumerate(record):
                self.table.setItem(row, col, QTableWidgetItem(_cell(columns[col], value)))

    def _clicked(self, event) -> None:
        if self.stats is None or event.xdata is None:
            return
        names = list(self.stats.per_experiment["experiment"])
        index = int(round(event.xdata))
        if 0 <= index < len(names) and abs(event.xdata - index) <= 0.45:
            self.experimentClicked.emit(str(names[index]))


def _fit_to_panel(figure: Figure, morphology: bool) -> int:
    """The builders lay figures out for an A4 page; in the dock the legends go above
    (morphology, in rows of at most :data:`LEGEND_PER_ROW` entries) or inside (scores) the
    axes and the footnote becomes the tooltip, so the plots keep their width. Returns the
    number of legend rows above the axes."""
    rows = 1
    footnote = figure.get_supxlabel()
    if footnote:
        figure.canvas.setToolTip(textwrap.fill(footnote, 70) +
                                 ("\nClick an experiment's bars to select it."
                                  if morphology else ""))
        figure.supxlabel("")
    for ax in figure.axes:
        legend = ax.get_legend()
        if legend is not None:
            handles = legend.legend_handles
            labels = [t.get_text() for t in legend.get_texts()]
            if morphology:                    # rows above the bars instead of a column
                rows = math.ceil(len(labels) / LEGEND_PER_ROW)
                ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.45, 1.0),
                          ncol=math.ceil(len(labels) / rows), fontsize=7, frameon=False,
                          handlelength=1.0, handletextpad=0.4, columnspacing=0.7)
                ax.set_title("")
            else:
                ax.legend(handles, labels, loc="upper left", fontsize=7, frameon=True,
                          framealpha=0.85)
        ax.title.set_fontsize(10)
    return rows


def _cell(column: str, value) -> str:
    if column == "p":
        return format_p(value)
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:g}"
    return str(value)
