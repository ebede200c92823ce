"""What the File and Project menus do: create, open, copy and close projects; add folders and
files (in a worker, with progress); import annotations; export the report; edit experiments
and magnifications. Errors go to dialogs; nothing here blocks the window for long work."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Sequence

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QProgressDialog, QWidget

from temnet_app.core import units
from temnet_app.core.errors import TemnetError
from temnet_app.core.micrographs.reader import MICROGRAPH_SUFFIXES
from temnet_app.core.project import PROJECT_SUFFIX, Project
from temnet_app.core.scale import CameraCalibration
from temnet_app.gui.app import data_dir, log_dir
from temnet_app.gui.dialogs.export_dialog import ExportDialog
from temnet_app.gui.dialogs.messages import show_error, show_list
from temnet_app.gui.dialogs.scale_dialog import ask_scale
from temnet_app.gui.session import Session
from temnet_app.gui.settings import AppSettings
from temnet_app.gui.workers import JobRunner
from temnet_app.jobs import (add_paths, build_demo_project, export_all, import_annotations,
                             report_command)

PROJECT_FILTER = f"TEMNet projects (*{PROJECT_SUFFIX})"
_log = logging.getLogger(__name__)


class ProjectControl(QObject):
    """Handlers of the project commands; ``window`` parents the dialogs."""

    opened = Signal(Path)
    message = Signal(str)          # a line for the status bar
    commandRun = Signal(str)       # the temnet command that repeats an export

    def __init__(self, window: QWidget, session: Session, settings: AppSettings,
                 runner: JobRunner) -> None:
        super().__init__(window)
        self.window, self.session, self.settings, self.runner = window, session, settings, runner
        self.last_notice = None
        self.last_export: dict = {}
        self.progress: Optional[QProgressDialog] = None

    # ----------------------------------------------------------------- open / close
    def open_path(self, path: Path) -> bool:
        """Open ``path``; a dialog explains when it is not a usable TEMNet project."""
        path = Path(path)
        try:
            self.session.open(path)
        except (TemnetError, OSError) as error:
            show_error(self.window, "Cannot open project", f"{path.name} cannot be opened.",
                       str(error))
            if not path.exists():
                self.settings.forget_recent(path)
            return False
        self.settings.add_recent(path)
        self.opened.emit(path)
        project = self.session.project
        if project is not None and project.read_only:
            self.message.emit(f"Opened {path.name} read-only (the file or its folder cannot "
                              f"be written): view and export only")
        else:
            self.message.emit(f"Opened {path}")
        return True

    def ask_open(self) -> None:
        start = str(self.settings.last_project().parent) if self.settings.last_project() else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", start,
                                              PROJECT_FILTER)
        if path:
            self.open_path(Path(path))

    def ask_new(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self.window, "New project", "", PROJECT_FILTER)
        if not path:
            return False
        return self.create(Path(path))

    def create(self, path: Path) -> bool:
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        try:
            Project.create(path).close()
        except TemnetError as error:
            show_error(self.window, "Cannot create project", str(error))
            return False
        return self.open_path(path)

    def demo_path(self) -> Path:
        return data_dir() / "demo" / "demo.temnet"

    def open_demo(self) -> None:
        path = self.demo_path()
        if path.exists():
            self.open_path(path)
            return
        if self.runner.running:
            self.message.emit("Wait for the running job to finish first")
            return
        self.runner.start("demo", build_demo_project, path,
                          on_success=lambda _: self.open_path(path),
                          on_failure=lambda msg, details: show_error(
                              self.window, "Cannot build the demo project", msg, details))

    def close_project(self) -> None:
        self.session.close()
        self.message.emit("Project closed")

    def save_copy(self) -> None:
        project = self.session.project
        if project is None:
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Save a copy of the project",
                                              str(project.folder), PROJECT_FILTER)
        if path:
            self.save_copy_to(Path(path))

    def save_copy_to(self, path: Path) -> Optional[Path]:
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        try:
            written = self.session.project.save_copy(path)
        except TemnetError as error:
            show_error(self.window, "Cannot save a copy", str(error))
            return None
        self.message.emit(f"Saved a copy as {written}")
        return written

    # ----------------------------------------------------------------- adding micrographs
    def ask_add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Add a folder of micrographs")
        if folder:
            self.add_paths([Path(folder)], None)

    def ask_add_files(self, experiment_id: Optional[int]) -> None:
        if experiment_id is None:
            show_error(self.window, "Add files", "Select the experiment to add the files to "
                       "first (or create one with Project > New experiment).")
            return
        files, _ = QFileDialog.getOpenFileNames(
            self.window, "Add micrographs", "",
            "Micrographs ({})".format(" ".join(f"*{s}" for s in MICROGRAPH_SUFFIXES)))
        if files:
            self.add_paths([Path(f) for f in files], experiment_id)

    def add_paths(self, paths: Sequence[Path], experiment_id: Optional[int]) -> None:
        """Folders become experiments, files join ``experiment_id``; read in a worker."""
        paths = [Path(p) for p in paths]
        if not paths:
            return
        if self.session.project is None:
            if not self.ask_new():
                return
        if self.runner.running:
            show_error(self.window, "Busy", f"Wait for “{self.runner.name}” to finish, then "
                       "drop the micrographs again.")
            return
        self.runner.start("adding micrographs", add_paths, self.session.project, paths,
                          experiment_id, on_success=self._added,
                          on_failure=lambda msg, details: show_error(
                              self.window, "Cannot add micrographs", msg, details))

    def _added(self, summary) -> None:
        added = len(summary.added)
        text = f"Added {added} micrograph(s)"
        if summary.experiments:
            text += " in " + ", ".join(e.name for e in summary.experiments)
        if summary.cancelled:
            text += " (cancelled; what was read before is kept)"
        self.message.emit(text)
        if summary.skipped:
            self.last_notice = show_list(
                self.window, "Some files were not added",
                f"{text}. {len(summary.skipped)} item(s) were skipped:",
                [f"{path.name}: {reason}" for path, reason in summary.skipped])

    # ----------------------------------------------------------------- experiments
    def new_experiment(self) -> None:
        name, ok = QInputDialog.getText(self.window, "New experiment", "Name:")
        if ok and name.strip():
            try:
                self.session.project.add_experiment(name)
            except TemnetError as error:
                show_error(self.window, "Cannot add the experiment", str(error))

    def remove(self, micrograph_ids: list[int], experiment_id: Optional[int],
               whole_experiment: bool) -> None:
        project = self.session.project
        if project is None:
            return
        if whole_experiment and experiment_id is not None:
            experiment = project.experiment(experiment_id)
            what = f"experiment “{experiment.name}” with its micrographs, manual data and " \
                   f"detections"
        elif micrograph_ids:
            what = f"{len(micrograph_ids)} micrograph(s) with their manual data and detections"
        else:
            return
        answer = QMessageBox.question(self.window, "Remove from project",
                                      f"Remove {what} from the project? The image files stay "
                                      f"on disk.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            if whole_experiment and experiment_id is not None:
                project.remove_experiment(experiment_id)
            else:
                for mid in micrograph_ids:
                    project.remove_micrograph(mid)
        except TemnetError as error:
            show_error(self.window, "Cannot remove", str(error))

    def set_scale(self, micrograph_id: Optional[int], experiment_id: Optional[int]) -> None:
        """Ask for the pixel size and magnification of one micrograph (overrides) or of an
        experiment (for micrographs whose files state no scale); empty fields clear them."""
        project = self.session.project
        if project is None:
            return
        if micrograph_id is not None and micrograph_id != -1:
            micrograph = project.micrograph(micrograph_id)
            try:
                now = project.scale(micrograph).describe()
            except TemnetError as error:
                now = f"invalid ({error})"
            intro = (f"Scale of {micrograph.name}. The pixel size decides; a magnification is "
                     f"converted with the camera calibration. Leave both unset to use the "
                     f"file's calibration, then its magnification, then the experiment's.")
            answer = ask_scale(self.window, "Micrograph scale", intro,
                               micrograph.pixel_size_override,
                               micrograph.magnification_override, now)
            if answer is not None:
                self._store_scale(lambda: (
                    project.set_pixel_size_override(micrograph_id, answer[0]),
                    project.set_magnification_override(micrograph_id, answer[1])))
        elif experiment_id is not None:
            experiment = project.experiment(experiment_id)
            intro = (f"Scale for the micrographs of {experiment.name} whose files state "
                     f"neither a pixel size nor a magnification (unset: 30,000x at the camera "
                     f"calibration).")
            answer = ask_scale(self.window, "Experiment scale", intro, experiment.pixel_size_nm,
                               experiment.magnification)
            if answer is not None:
                self._store_scale(lambda: project.update_experiment(
                    experiment_id, pixel_size_nm=answer[0], magnification=answer[1]))

    def set_camera(self) -> None:
        """Ask for the camera's pixel size at a magnification (once per project)."""
        project = self.session.project
        if project is None:
            return
        camera = project.camera_calibration()
        intro = ("The camera's pixel size at one nominal magnification, from the microscope's "
                 "calibration. It converts magnifications (from files, experiments or set by "
                 "hand) into pixel sizes; files that state a pixel size do not need it. "
                 "Cancel keeps the current one; the reference is 0.561 nm/px at 30,000x "
                 "(JEOL 1200EX with an AMT 2k camera).")
        answer = ask_scale(self.window, "Camera calibration", intro,
                           camera.pixel_size_nm if camera else units.NM_PER_PIXEL_AT_DEFAULT,
                           camera.magnification if camera else units.DEFAULT_MAGNIFICATION,
                           required=True)
        if answer is not None:
            calibration = CameraCalibration(answer[1], answer[0])
            self._store_scale(lambda: project.set_camera_calibration(
                None if calibration.is_reference else calibration))

    def _store_scale(self, store) -> None:
        try:
            store()
        except (TemnetError, ValueError) as error:
            show_error(self.window, "Invalid scale", str(error))

    # ----------------------------------------------------------------- import / export
    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Import annotations", str(self.session.project.folder),
            "Annotations (*.csv *.json);;VIA or counts CSV (*.csv);;COCO JSON (*.json)")
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path):
        try:
            summary = import_annotations(self.session.project, path)
        except (TemnetError, OSError) as error:
            show_error(self.window, "Cannot import", f"{path.name} could not be imported.",
                       str(error))
            return None
        self.message.emit(summary.describe())
        problems = [f"{n}: matches no micrograph" for n in summary.unmatched] + \
                   [f"{n}: matches several micrographs" for n in summary.ambiguous]
        if problems:
            self.last_notice = show_list(self.window, "Import", summary.describe() + ".",
                                         problems)
        return summary

    def ask_export(self, micrograph_ids: list[int]) -> None:
        project = self.session.project
        dialog = ExportDialog(project.folder / "export", self.session.threshold,
                              len(micrograph_ids), bool(self.session.annotated), self.window)
        if dialog.exec() == ExportDialog.DialogCode.Accepted and dialog.chosen_folder():
            self.export_to(dialog.chosen_folder(), dialog.kinds(), micrograph_ids)

    def export_to(self, folder: Path, kinds=("report",), micrograph_ids=()) -> None:
        """Export ``kinds`` into ``folder`` in a worker, with a progress dialog."""
        if self.runner.running:
            show_error(self.window, "Busy", f"Wait for “{self.runner.name}” to finish.")
            return
        project, threshold = self.session.project, self.session.threshold
        self.progress = QProgressDialog("Exporting…", "Cancel", 0, 1000, self.window)
        self.progress.setObjectName("exportProgress")
        self.progress.setWindowTitle("Export")
        self.progress.setMinimumDuration(300)
        self.progress.canceled.connect(self.runner.cancel)
        self.runner.stopped.connect(self._close_progress)
        self.runner.start("export", export_all, project, folder, threshold, list(kinds),
                          list(micrograph_ids), on_progress=self._export_progress,
                          on_success=lambda paths: self._exported(folder, paths),
                          on_failure=lambda msg, details: show_error(
                              self.window, "Cannot export", msg, details))
        if "report" in kinds:
            self.commandRun.emit(report_command(project.path, folder, threshold))

    def _export_progress(self, fraction: float, message: str) -> None:
        if self.progress is not None:
            self.progress.setValue(int(fraction * 1000))
            self.progress.setLabelText(message)

    def _close_progress(self, name: str) -> None:
        self.runner.stopped.disconnect(self._close_progress)
        if self.progress is not None:
            self.progress.reset()
            self.progress.deleteLater()
            self.progress = None

    def _exported(self, folder: Path, paths: dict) -> None:
        self.last_export = paths
        self.message.emit(f"Exported {len(paths)} file(s) to {folder}")

    # ----------------------------------------------------------------- help
    def open_log_folder(self) -> None:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.message.emit(f"The log folder is {folder}")
