"""What the Run menu does: detection over the selection, an experiment or the whole project
in a worker thread (TensorFlow loads there, at the first run), cancel, and the model choice.
Each micrograph's boxes reach the browser and the viewer as soon as they are committed
(through the session's project events)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, Signal

from temnet_app.core.errors import ModelError
from temnet_app.gui.dialogs.messages import show_error, show_list
from temnet_app.gui.dialogs.model_dialog import ModelDialog
from temnet_app.gui.session import Session
from temnet_app.gui.settings import AppSettings
from temnet_app.gui.workers import JobRunner
from temnet_app.jobs import describe_model, detect_command, detect_in_project


class DetectionControl(QObject):
    """Starts and cancels detection runs and remembers the model."""

    deviceKnown = Signal(str)       # "CPU" or the GPU, once TensorFlow has loaded the model
    modelChanged = Signal(str)      # the model's id (name@version) for the status bar
    message = Signal(str)
    finished = Signal(object)       # the RunSummary, or None after a failure
    commandRun = Signal(str)        # the temnet command that repeats a run
    flipsChanged = Signal(bool)     # whether detection averages over mirrored copies

    def __init__(self, window, session: Session, settings: AppSettings,
                 runner: JobRunner) -> None:
        super().__init__(window)
        self.window, self.session, self.settings, self.runner = window, session, settings, runner
        self.last_summary = None
        self.last_notice = None
        self.last_scale_notice = None
        self.flips: Optional[bool] = None   # the user's choice when it differs from the card

    # ----------------------------------------------------------------- model
    def model_id(self) -> str:
        try:
            return describe_model(self.settings.model_dir()).model_id
        except ModelError:
            return "no usable model"

    def model_flips(self) -> bool:
        """Whether the model's card averages over mirrored copies."""
        try:
            return describe_model(self.settings.model_dir()).flip_average
        except ModelError:
            return False

    def uses_flips(self) -> bool:
        return self.model_flips() if self.flips is None else self.flips

    def set_flips(self, on: bool) -> None:
        """Average over mirrored copies (or not) in the next runs (said when it changes)."""
        before = self.uses_flips()
        self.flips = None if bool(on) == self.model_flips() else bool(on)
        if self.uses_flips() != before:
            self.message.emit("Detection averages over the micrograph and three mirrored "
                              "copies (four passes)" if on else
                              "Detection runs one pass per micrograph")

    def _model_changed(self) -> None:
        self.flips = None
        self.modelChanged.emit(self.model_id())
        self.flipsChanged.emit(self.model_flips())

    def choose_model(self) -> bool:
        """Show the model dialog (modal); True when a model was accepted."""
        dialog = ModelDialog(self.settings.model_dir(), self.window)
        if dialog.exec() != ModelDialog.DialogCode.Accepted:
            return False
        self.settings.set_model_dir(dialog.folder)
        self._model_changed()
        return True

    def use_model(self, folder) -> None:
        """Detection uses the model in ``folder`` from now on (the shipped one: its own)."""
        from temnet_app.jobs import default_model_dir

        shipped = Path(folder).resolve() == default_model_dir().resolve()
        self.settings.set_model_dir(None if shipped else Path(folder))
        self._model_changed()
        self.message.emit(f"Detection now uses {self.model_id()}")

    # ----------------------------------------------------------------- running
    def detect(self, micrograph_ids: list[int], scope: str) -> bool:
        """Start a run over ``micrograph_ids``; ``scope`` names them for the user."""
        project = self.session.project
        if project is None:
            return False
        if not micrograph_ids:
            show_error(self.window, "Nothing to detect", "Select micrographs or an experiment "
                       "in the project browser first.")
            return False
        if self.runner.running:
            show_error(self.window, "Busy", f"Wait for “{self.runner.name}” to finish or "
                       "cancel it first.")
            return False
        if not self.settings.model_confirmed() and not self.choose_model():
            return False
        model: Optional[Path] = self.settings.model_dir()
        self.runner.start(f"detection in {scope}", detect_in_project, project,
                          list(micrograph_ids), model, on_success=self._done,
                          on_failure=self._failed,
                          on_cancel=lambda: self.message.emit("Detection cancelled"),
                          # called in the worker thread: it only emits a (queued) signal
                          on_model_loaded=lambda d: self.deviceKnown.emit(d.device),
                          flips=self.flips)
        names = {e.id: e.name for e in self.session.experiments}
        every = [m for ms in self.session.micrographs.values() for m in ms]
        self.commandRun.emit(detect_command(project.path, [self.session.by_id[i] for i in
                                                           micrograph_ids], names, every, model,
                                            self.flips))
        self.message.emit(f"Detecting in {scope} ({len(micrograph_ids)} micrographs)…")
        return True

    def cancel(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.message.emit(f"Cancelling {self.runner.name}…")

    def _done(self, summary) -> None:
        self.last_summary = summary
        text = (f"Detection {summary.status}: {len(summary.processed)} of {summary.total} "
                f"micrographs, {summary.n_detections} detections stored in run "
                f"#{summary.run_id} ({summary.seconds:.1f} s)")
        self.message.emit(text)
        if summary.skipped:
            self.last_notice = show_list(
                self.window, "Micrographs skipped",
                f"{text}. These micrographs could not be read and were skipped:",
                [f"{s.name}: {s.reason}" for s in summary.skipped])
            for s in summary.skipped:
                if s.micrograph_id is not None:
                    self.session.mark_problem(s.micrograph_id, s.reason)
        if summary.scale_advice:
            self.last_scale_notice = show_list(
                self.window, "Check the scale",
                "The detector found few virions, or was unsure, at the scale these micrographs "
                "state, and was much more confident at another. Set the right pixel size or "
                "magnification with Project > Set scale… (Ctrl+M), then detect again:",
                summary.scale_messages(), wrap=True)
        self.finished.emit(summary)

    def _failed(self, message: str, details: str) -> None:
        self.last_summary = None
        show_error(self.window, "Detection failed", message, details)
        self.message.emit("Detection failed")
        self.finished.emit(None)
