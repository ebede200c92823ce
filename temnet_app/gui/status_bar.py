"""The status bar: messages, the progress bar and Cancel button of the running job, the counts
of the shown micrograph, the compute device and the detector model (click to choose)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QToolButton

from temnet_app.gui.session import Session
from temnet_app.gui.workers import JobRunner


class StatusBar(QStatusBar):
    """Observes the session (counts) and the job runners (progress)."""

    cancelRequested = Signal()
    modelRequested = Signal()

    def __init__(self, session: Session, runners: tuple[JobRunner, ...], parent=None) -> None:
        super().__init__(parent)
        self.session, self.runners = session, runners
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFixedWidth(220)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.counts_label = QLabel()
        self.counts_label.setObjectName("statusCounts")
        self.device_label = QLabel("Compute: TensorFlow not loaded yet")
        self.device_label.setToolTip("TensorFlow loads at the first detection; it uses the GPU "
                                     "when it sees one, else the CPU")
        self.model_button = QToolButton()
        self.model_button.setAutoRaise(True)
        self.model_button.setToolTip("Detector model (click to choose)")
        for widget in (self.progress_bar, self.cancel_button, self.counts_label,
                       self.device_label, self.model_button):
            self.addPermanentWidget(widget)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.model_button.clicked.connect(self.modelRequested)
        session.countsChanged.connect(self.update_counts)
        session.currentChanged.connect(lambda _: self.update_counts())
        session.projectChanged.connect(self.update_counts)
        session.classesChanged.connect(self.update_counts)
        for runner in runners:
            runner.started.connect(self._started)
            runner.progressed.connect(self._progress)
            runner.stopped.connect(self._stopped)

    def show_device(self, device: str) -> None:
        self.device_label.setText(f"Compute: {device}")

    def show_model(self, model_id: str) -> None:
        self.model_button.setText(f"Model: {model_id}")

    def update_counts(self) -> None:
        m = self.session.current()
        counts = self.session.counts(m.id) if m is not None else None
        names = self.session.class_names
        if counts is None:
            self.counts_label.setText("" if m is None else f"{m.name}: not detected yet")
            return
        parts = " · ".join(f"{n} {int(c)}" for n, c in zip(names, counts))
        self.counts_label.setText(f"{m.name}: {int(counts.sum())} virions ({parts}) at "
                                  f"≥ {self.session.threshold:.2f}")

    def _started(self, name: str) -> None:
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"{name}: %p%")
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(True)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(int(round(fraction * 1000)))
        self.progress_bar.setToolTip(message)
        self.showMessage(message)

    def _stopped(self, name: str) -> None:
        busy = any(r.running for r in self.runners)
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
