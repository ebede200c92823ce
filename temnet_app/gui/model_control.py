"""Run > Models of the project and Run > Train a model: the two dialogs, kept while the window
lives (a model may go on training while its dialog is hidden)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from temnet_app.gui.session import Session
from temnet_app.gui.settings import AppSettings
from temnet_app.gui.workers import JobRunner


class ModelControl(QObject):
    """Opens the models and training dialogs and connects them to detection."""

    message = Signal(str)
    commandRun = Signal(str)

    def __init__(self, window, session: Session, settings: AppSettings, runner: JobRunner,
                 detection) -> None:
        super().__init__(window)
        self.window, self.session, self.settings = window, session, settings
        self.runner, self.detection = runner, detection
        self.models_dialog = None
        self.train_dialog = None
        self._train_project = None

    @property
    def training(self) -> bool:
        return self.train_dialog is not None and self.train_dialog.process.running

    def cancel_training(self) -> None:
        if self.train_dialog is not None:
            self.train_dialog.process.cancel()

    def show_models(self):
        from temnet_app.gui.dialogs.models_dialog import ModelsDialog

        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(self.session, self.runner,
                                              self.settings.model_dir(), self.window)
            self.models_dialog.useModel.connect(self.detection.use_model)
            self.models_dialog.trainRequested.connect(self.show_training)
        self.models_dialog.current = self.settings.model_dir()
        self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    def show_training(self):
        from temnet_app.gui.dialogs.train_dialog import TrainDialog

        stale = self.train_dialog is None or self._train_project is not self.session.project
        if stale and not self.training:
            self.train_dialog = TrainDialog(self.session, self.settings.model_dir(),
                                            self.window)
            self._train_project = self.session.project
            self.train_dialog.useModel.connect(self.detection.use_model)
            self.train_dialog.commandRun.connect(self.commandRun)
            self.train_dialog.modelTrained.connect(self._model_trained)
        self.train_dialog.show()
        self.train_dialog.raise_()
        return self.train_dialog

    def _model_trained(self, folder) -> None:
        self.message.emit(f"New model {folder.name} is in the project's models (Run > Models "
                          f"of the project)")
        if self.models_dialog is not None:
            self.models_dialog.refresh()
