"""Train a model on the project's corrected micrographs, in a child process (``temnet
train``): start from the shipped model (fine-tuning, the default), another model or from
scratch; choose the experiments, reviewed micrographs only, the validation share and the
epochs (a default from the amount of data, and an estimate of the time); follow the loss and
validation-mAP curves with an ETA; cancel and resume. A finished model joins the project's
models."""

from __future__ import annotations

import datetime as _dt
import math
import re
from pathlib import Path
from typing import Optional

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDialog, QDoubleSpinBox, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QMessageBox, QProgressBar, QPushButton, QRadioButton, QSpinBox,
                               QVBoxLayout, QWidget)

from temnet_app.core.errors import TemnetError
from temnet_app.gui.dialogs.messages import show_error
from temnet_app.gui.training_process import TrainingProcess, cpu_count, format_eta
from temnet_app.jobs import (TrainingPlan, can_resume, default_epochs, default_model_dir,
                             estimate_seconds, register_model)


class TrainDialog(QDialog):
    """Non-modal: the window stays usable while a model trains."""

    modelTrained = Signal(Path)     # registered in the project
    useModel = Signal(Path)         # the user chose it for detection
    commandRun = Signal(str)

    def __init__(self, session, current_model: Optional[Path], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("trainDialog")
        self.setWindowTitle("Train a model on your corrections")
        self.session = session
        self.current_model = current_model
        self.process = TrainingProcess(self)
        self.process.progressed.connect(self._progress)
        self.process.stateChanged.connect(self._curves)
        self.process.finished.connect(self._finished)
        self._build()
        self._fill_experiments()
        self._start_changed()           # the default epochs for the data chosen
        session.manualChanged.connect(lambda _: self._refresh_counts())

    # ----------------------------------------------------------------- form
    def _build(self) -> None:
        layout = QHBoxLayout(self)
        form_box = QWidget()
        form = QFormLayout(form_box)
        self.from_shipped = QRadioButton("the shipped model (fine-tune; recommended)")
        self.from_current = QRadioButton("the model in use")
        self.from_scratch = QRadioButton("scratch (needs many labelled micrographs)")
        group = QButtonGroup(self)
        for button in (self.from_shipped, self.from_current, self.from_scratch):
            group.addButton(button)
        self.from_shipped.setChecked(True)
        self.from_current.setEnabled(self.current_model is not None)
        start = QVBoxLayout()
        for button in (self.from_shipped, self.from_current, self.from_scratch):
            start.addWidget(button)
        form.addRow("Start from:", start)
        self.experiments = QListWidget()
        self.experiments.setObjectName("trainExperiments")
        self.experiments.setMaximumHeight(120)
        form.addRow("Experiments:", self.experiments)
        self.reviewed_only = QCheckBox("only micrographs marked reviewed")
        form.addRow("", self.reviewed_only)
        self.validation = QDoubleSpinBox()
        self.validation.setRange(0.0, 0.5)
        self.validation.setSingleStep(0.05)
        self.validation.setValue(0.2)
        self.validation.setToolTip("Share of micrographs held out to watch the model learn")
        form.addRow("Validation share:", self.validation)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 500)
        form.addRow("Epochs:", self.epochs)
        self.steps = QSpinBox()
        self.steps.setRange(0, 100_000)
        self.steps.setSpecialValueText("one pass over the crops")
        self.steps.setToolTip("Batches per epoch (0: one pass over the training crops)")
        form.addRow("Steps per epoch:", self.steps)
        self.name = QLineEdit(self._default_name())
        form.addRow("Model name:", self.name)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("trainSummary")
        form.addRow(self.summary)
        self.command = QLineEdit()
        self.command.setReadOnly(True)
        self.command.setObjectName("trainCommand")
        form.addRow("Command:", self.command)
        for widget in (self.reviewed_only,):
            widget.toggled.connect(self._update_plan)
        for radio in (self.from_shipped, self.from_current, self.from_scratch):
            radio.toggled.connect(self._start_changed)
        self.validation.valueChanged.connect(self._update_plan)
        self.epochs.valueChanged.connect(self._update_plan)
        self.steps.valueChanged.connect(self._update_plan)
        self.name.textChanged.connect(self._update_plan)
        self.experiments.itemChanged.connect(self._update_plan)

        right = QVBoxLayout()
        self.figure = Figure(figsize=(5.2, 3.6), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumSize(420, 300)
        right.addWidget(self.canvas, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("Not started.")
        self.status.setWordWrap(True)
        self.status.setObjectName("trainStatus")
        right.addWidget(self.progress)
        right.addWidget(self.status)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start training")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel training")
        self.use_button = QPushButton("Use this model")
        self.copy_button = QPushButton("Copy command")
        close = QPushButton("Close")
        for button in (self.start_button, self.resume_button, self.cancel_button,
                       self.use_button, self.copy_button, close):
            buttons.addWidget(button)
        right.addLayout(buttons)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.cancel_button.clicked.connect(self.cancel)
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.command.text()))
        self.use_button.clicked.connect(self._use)
        close.clicked.connect(self.close)
        layout.addWidget(form_box, 2)
        layout.addLayout(right, 3)
        self._draw_curves(None)
        self._set_running(False)
        self.resize(1080, 560)

    def _default_name(self) -> str:
        project = self.session.project
        stem = re.sub(r"[^\w-]+", "-", project.path.stem).strip("-") or "model"
        return f"{stem}-{_dt.date.today().isoformat()}"

    def _fill_experiments(self) -> None:
        annotated, reviewed = self.session.annotated, self.session.reviewed
        for experiment in self.session.experiments:
            ids = [m.id for m in self.session.micrographs.get(experiment.id, [])]
            n_ann = sum(1 for i in ids if i in annotated)
            n_rev = sum(1 for i in ids if i in reviewed)
            item = QListWidgetItem(f"{experiment.name}  ({n_ann} annotated, {n_rev} reviewed)")
            item.setData(Qt.ItemDataRole.UserRole, (experiment.name, n_ann, n_rev))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if n_ann else Qt.CheckState.Unchecked)
            self.experiments.addItem(item)

    def _refresh_counts(self) -> None:
        """Annotated / reviewed counts change while the dialog is open: relabel the list."""
        annotated, reviewed = self.session.annotated, self.session.reviewed
        self.experiments.blockSignals(True)
        for i, experiment in enumerate(self.session.experiments[:self.experiments.count()]):
            ids = [m.id for m in self.session.micrographs.get(experiment.id, [])]
            n_ann = sum(1 for m in ids if m in annotated)
            n_rev = sum(1 for m in ids if m in reviewed)
            item = self.experiments.item(i)
            item.setText(f"{experiment.name}  ({n_ann} annotated, {n_rev} reviewed)")
            item.setData(Qt.ItemDataRole.UserRole, (experiment.name, n_ann, n_rev))
        self.experiments.blockSignals(False)
        if not self.process.running:
            self._update_plan()

    def chosen_experiments(self) -> list[tuple[str, int, int]]:
        return [self.experiments.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.experiments.count())
                if self.experiments.item(i).checkState() == Qt.CheckState.Checked]

    def n_micrographs(self) -> int:
        index = 2 if self.reviewed_only.isChecked() else 1
        return sum(row[index] for row in self.chosen_experiments())

    def _start_changed(self) -> None:
        self.epochs.blockSignals(True)
        self.epochs.setValue(default_epochs(self.n_micrographs(),
                                            not self.from_scratch.isChecked()))
        self.epochs.blockSignals(False)
        self._update_plan()

    def init_model(self) -> Optional[Path]:
        if self.from_scratch.isChecked():
            return None
        if self.from_current.isChecked() and self.current_model is not None:
            return self.current_model
        return default_model_dir()

    def plan(self, resume: bool = False) -> TrainingPlan:
        name = self.name.text().strip() or self._default_name()
        every = [row[0] for row in self.chosen_experiments()]
        all_names = [e.name for e in self.session.experiments]
        return TrainingPlan(
            project=self.session.project.path,
            out=self.session.project.folder / "models" / name,
            init=self.init_model(), epochs=self.epochs.value(),
            experiments=() if every == all_names else tuple(every),
            reviewed_only=self.reviewed_only.isChecked(),
            validation_fraction=self.validation.value(), steps_per_epoch=self.steps.value(),
            val_map_every=1, name=name, resume=resume)

    def _update_plan(self) -> None:
        n = self.n_micrographs()
        plan = self.plan()
        seconds = estimate_seconds(n, plan.epochs, plan.validation_fraction,
                                   plan.steps_per_epoch, plan.val_map_every)
        n_val = max(1, round(n * plan.validation_fraction)) if n > 1 else 0
        self.summary.setText(
            f"{n} labelled micrograph(s): about {max(0, n - n_val)} to train on and {n_val} "
            f"to validate. Estimated time on this machine ({cpu_count()} CPU cores): about "
            f"{format_eta(seconds)}. The model is written to {plan.out}.")
        self.command.setText(plan.command())
        self.command.setToolTip(plan.command())
        self.command.setCursorPosition(0)
        self.start_button.setEnabled(n > 0 and not self.process.running)
        self.resume_button.setEnabled(not self.process.running and can_resume(plan.out))

    # ----------------------------------------------------------------- running
    def start(self, resume: bool = False) -> bool:
        plan = self.plan(resume=resume)
        if self.n_micrographs() == 0:
            show_error(self, "Train a model", "No labelled micrographs chosen: accept and "
                       "correct detections on some micrographs first (Edit menu).")
            return False
        if plan.out.exists() and not resume and any(plan.out.iterdir()):
            show_error(self, "Train a model", f"{plan.out} already exists: choose another "
                       f"model name, or Resume that run.")
            return False
        self.commandRun.emit(plan.command())
        self.process.start(plan)
        self._set_running(True)
        self.status.setText("Starting (TensorFlow loads in the training process)…")
        return True

    def cancel(self) -> None:
        if self.process.running:
            self.status.setText("Cancelling…")
            self.process.cancel()

    def _set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.start_button.setEnabled(not running)
        self.use_button.setEnabled(False if running else self.use_button.isEnabled())
        for widget in (self.from_shipped, self.from_current, self.from_scratch,
                       self.experiments, self.reviewed_only, self.validation, self.epochs,
                       self.steps, self.name):
            widget.setEnabled(not running and (widget is not self.from_current
                                               or self.current_model is not None))
        if not running:
            self._update_plan()

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(f"{message}\nTime left: {format_eta(self.process.eta_seconds())}")

    def _finished(self, ok: bool, message: str) -> None:
        self._set_running(False)
        self.status.setText(message)
        if ok:
            self.progress.setValue(1000)
            out = self.process.plan.out
            try:
                register_model(self.session.project, out)
            except TemnetError as error:
                show_error(self, "Train a model", f"The run finished but its model cannot be "
                           f"used: {error}")
                return
            self.use_button.setEnabled(True)
            self.modelTrained.emit(out)
        elif not self.process.cancelled:
            show_error(self, "Training failed", message)

    def _use(self) -> None:
        if self.process.plan is not None:
            self.useModel.emit(self.process.plan.out)
            self.status.setText(f"Detection now uses {self.process.plan.out.name}.")

    # ----------------------------------------------------------------- curves
    def _curves(self, state) -> None:
        self._draw_curves(state)

    def _draw_curves(self, state) -> None:
        self.figure.clear()
        loss_ax, map_ax = self.figure.subplots(1, 2)
        loss_ax.set_title("Loss", fontsize=10)
        map_ax.set_title("Validation mAP@0.5 (%)", fontsize=10)
        for ax in (loss_ax, map_ax):
            ax.set_xlabel("epoch", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(color="0.9")
        if state is not None and state.history:
            epochs = [h["epoch"] for h in state.history]
            loss_ax.plot(epochs, state.train_loss, "o-", color="#1f5fd6", label="training")
            validated = [(e, v) for e, v in zip(epochs, state.val_loss) if math.isfinite(v)]
            loss_ax.plot([e for e, _ in validated], [v for _, v in validated], "s-",
                         color="#d62728", label="validation")   # validated epochs only
            loss_ax.legend(fontsize=8)
            points = state.val_map
            if points:
                map_ax.plot([p[0] for p in points], [p[1] * 100 for p in points], "o-",
                            color="#2ca02c")
                map_ax.set_ylim(0, 104)            # a point at 100% shows whole
                map_ax.set_yticks(range(0, 101, 20))
            total = state.epochs or max(epochs)
            for ax in (loss_ax, map_ax):
                ax.set_xlim(0.5, max(total, max(epochs)) + 0.5)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            for ax in (loss_ax, map_ax):
                ax.text(0.5, 0.5, "after the first epoch", ha="center", va="center",
                        transform=ax.transAxes, fontsize=8, color="0.5")
        self.canvas.draw_idle()

    def closeEvent(self, event) -> None:
        if self.process.running:
            answer = QMessageBox.question(self, "Train a model", "A model is training. Cancel "
                                          "the run? (Resume can continue it later.)")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.process.cancel()
        super().closeEvent(event)
