"""The main window: wiring only. It builds the panels, docks, menus, toolbar and status bar,
binds the action table to the controllers, and forwards signals between them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (QDockWidget, QMainWindow, QMenu, QMessageBox, QStackedWidget,
                               QToolBar, QWidget)

from temnet_app.gui.actions import MENUS, Actions
from temnet_app.gui.annotation_control import AnnotationControl
from temnet_app.gui.app import APP_NAME
from temnet_app.gui.browser import BrowserPanel
from temnet_app.gui.browser.panel import dropped_paths
from temnet_app.gui.detection_control import DetectionControl
from temnet_app.gui.dialogs.about import ShortcutsDialog, show_about
from temnet_app.gui.dialogs.classes_dialog import edit_classes
from temnet_app.gui.menus import ClassToggles, RecentMenu
from temnet_app.gui.model_control import ModelControl
from temnet_app.gui.project_control import ProjectControl
from temnet_app.gui.session import Session
from temnet_app.gui.settings import AppSettings
from temnet_app.gui.start_page import StartPage
from temnet_app.gui.stats import CountsPanel
from temnet_app.gui.status_bar import StatusBar
from temnet_app.gui.threshold import ThresholdSlider
from temnet_app.gui.viewer import ViewerPanel
from temnet_app.gui.workers import JobRunner


class MainWindow(QMainWindow):
    """Project browser (left), micrograph viewer (centre), class counts (right)."""

    def __init__(self, settings: Optional[AppSettings] = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or AppSettings()
        self.session = Session(self.settings.threshold(), self)
        self.detection_runner, self.task_runner = JobRunner(self), JobRunner(self)
        self.actions = Actions(self)
        self.projects = ProjectControl(self, self.session, self.settings, self.task_runner)
        self.detection = DetectionControl(self, self.session, self.settings,
                                          self.detection_runner)
        self.model_control = ModelControl(self, self.session, self.settings, self.task_runner,
                                          self.detection)
        self.undo_stack = QUndoStack(self)
        self.start_page = StartPage(self)
        self.viewer = ViewerPanel(self.session, self.undo_stack, self)
        self.annotation = AnnotationControl(self, self.session, self.undo_stack,
                                            self.viewer.editor)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.viewer)
        self.setCentralWidget(self.stack)
        self.browser = BrowserPanel(self.session, self)
        self.counts = CountsPanel(self.session, self)
        self.browser_dock = self._dock("browserDock", "Project", self.browser,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.counts_dock = self._dock("countsDock", "Counts", self.counts,
                                      Qt.DockWidgetArea.LeftDockWidgetArea)
        self.splitDockWidget(self.browser_dock, self.counts_dock, Qt.Orientation.Vertical)
        self._statistics = None      # built after the window shows (matplotlib is slow to load)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.statistics_dock = self._dock("statisticsDock", "Statistics", QWidget(self),
                                          Qt.DockWidgetArea.BottomDockWidgetArea)
        self.threshold = ThresholdSlider(self.session.threshold, self)
        self.recent_menu = RecentMenu(self.settings, self)
        self.class_menu = QMenu("&Classes", self)
        self.class_toggles = ClassToggles(self.session, self.class_menu)
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self._bind()
        self._connect()
        screen = self.screen().availableGeometry()
        self.resize(min(1600, int(screen.width() * 0.9)) if screen.width() > 1100 else 1500,
                    min(1000, int(screen.height() * 0.9)) if screen.height() > 700 else 920)
        self.resizeDocks([self.browser_dock], [520], Qt.Orientation.Horizontal)
        self.resizeDocks([self.browser_dock, self.counts_dock], [600, 240],
                         Qt.Orientation.Vertical)
        self.resizeDocks([self.statistics_dock], [300], Qt.Orientation.Vertical)
        self._default_state = self.saveState()
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.setAcceptDrops(True)
        self._hidden_docks: Optional[dict] = None
        self._refresh()

    # ----------------------------------------------------------------- building
    def _dock(self, name: str, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus_and_toolbar(self) -> None:
        for title in MENUS:
            menu = self.menuBar().addMenu(f"&{title}")
            for action in self.actions.in_menu(title):
                menu.addAction(action)
                if action.objectName() == "action_open":
                    menu.addMenu(self.recent_menu)
                if action.objectName() == "action_show_labels":
                    menu.addMenu(self.class_menu)
                if action.objectName() in ("action_save_copy", "action_export",
                                           "action_close_project", "action_next",
                                           "action_show_labels", "action_cancel",
                                           "action_redo", "action_manual_counts",
                                           "action_camera"):
                    menu.addSeparator()
            if title == "View":
                menu.addSeparator()
                for dock in (self.browser_dock, self.counts_dock, self.statistics_dock):
                    menu.addAction(dock.toggleViewAction())
        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolBar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for key in ("open", "add_folder", None, "detect_selection", "detect_experiment",
                    "cancel", None, "fit", "actual", None):
            bar.addSeparator() if key is None else bar.addAction(self.actions[key])
        bar.addWidget(self.threshold)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.browser.context_actions = [self.actions[k] if k else None for k in (
            "detect_selection", "detect_experiment", None, "add_folder", "add_files",
            "new_experiment", "rename", "magnification", "remove")]

    def _build_status_bar(self) -> None:
        self.status = StatusBar(self.session, (self.detection_runner, self.task_runner), self)
        self.setStatusBar(self.status)
        self.progress_bar, self.cancel_button = self.status.progress_bar, self.status.cancel_button
        self.counts_label, self.device_label = self.status.counts_label, self.status.device_label

    def _bind(self) -> None:
        a, p, d, v = self.actions, self.projects, self.detection, self.viewer
        b = self.browser
        for key, handler in {
            "new": p.ask_new, "open": p.ask_open, "open_demo": p.open_demo,
            "save_copy": p.save_copy, "add_folder": p.ask_add_folder,
            "add_files": lambda: p.ask_add_files(b.current_experiment_id()),
            "import": p.ask_import,
            "export": lambda: p.ask_export(b.selected_micrograph_ids()
                                           or [i for i in [self.session.current_id] if i != -1]),
            "undo": self.undo_stack.undo, "redo": self.undo_stack.redo,
            "annotate": v.editor.set_active,
            "accept": lambda: self.annotation.accept_detections(b.selected_micrograph_ids()),
            "reviewed": self.annotation.toggle_reviewed,
            "manual_counts": lambda: self.annotation.edit_counts(b.current_experiment_id()),
            "copy_command": self.annotation.copy_command,
            "close_project": self.close_project, "quit": self.close,
            "new_experiment": p.new_experiment, "rename": b.rename_current,
            "remove": lambda: p.remove(b.selected_micrograph_ids(), b.current_experiment_id(),
                                       b.current_is_experiment()),
            "magnification": lambda: p.set_scale(
                None if b.current_is_experiment() else self.session.current_id,
                b.current_experiment_id()),
            "camera": p.set_camera, "classes": lambda: edit_classes(self, self.session),
            "fit": v.view.fit, "actual": v.view.actual_size, "zoom_in": v.view.zoom_in,
            "zoom_out": v.view.zoom_out, "previous": lambda: v.step(-1),
            "next": lambda: v.step(1), "reset_layout": self.reset_layout,
            "detect_selection": lambda: d.detect(b.selected_micrograph_ids(), "the selection"),
            "detect_experiment": self.detect_experiment,
            "detect_project": lambda: d.detect(list(self.session.by_id), "the whole project"),
            "cancel": self.cancel_jobs, "choose_model": d.choose_model, "flips": d.set_flips,
            "models": self.model_control.show_models, "train": self.model_control.show_training,
            "shortcuts": lambda: ShortcutsDialog(a.shortcut_rows(), self).open(),
            "log_folder": p.open_log_folder, "about": lambda: show_about(self),
            "show_predicted": lambda on: v.set_layers(predicted=on),
            "show_manual": lambda on: v.set_layers(manual=on),
            "show_labels": lambda on: v.set_layers(labels=on),
        }.items():
            a.bind(key, handler)

    def _connect(self) -> None:
        s = self.session
        s.projectChanged.connect(self._refresh)
        s.projectChanged.connect(self.viewer.view.setFocus)   # keys go to the micrograph
        s.currentChanged.connect(lambda _: self._refresh())
        s.thresholdChanged.connect(self.threshold.set_value)
        self.threshold.valueChanged.connect(s.set_threshold)
        self.browser.tree.pathsDropped.connect(self._add_dropped)
        self.browser.model.renameFailed.connect(
            lambda text: self.projects.message.emit(f"Rename refused: {text}"))
        for source in (self.counts.classToggled, self.class_toggles.toggled):
            source.connect(self.viewer.set_class_visible)
            source.connect(self.counts.set_class_checked)
            source.connect(self.class_toggles.set_checked)
        self.recent_menu.chosen.connect(self.projects.open_path)
        self.viewer.annotation_bar.add_actions([self.actions[k] for k in ("accept", "reviewed")])
        self.viewer.editor.modeChanged.connect(self.actions["annotate"].setChecked)
        for control in (self.projects, self.detection, self.model_control):
            control.commandRun.connect(self.annotation.remember_command)
        self.model_control.message.connect(lambda text: self.status.showMessage(text, 20000))
        self.annotation.message.connect(lambda text: self.status.showMessage(text, 15000))
        stack = self.undo_stack
        for signal in (stack.canUndoChanged, stack.canRedoChanged):
            signal.connect(lambda _: self._refresh())
        stack.undoTextChanged.connect(
            lambda text: self.actions["undo"].setText(f"&Undo {text}".rstrip()))
        stack.redoTextChanged.connect(
            lambda text: self.actions["redo"].setText(f"&Redo {text}".rstrip()))
        self.viewer.view.boxHovered.connect(lambda text: self.status.showMessage(text, 4000))
        self.start_page.newRequested.connect(self.projects.ask_new)
        self.start_page.openRequested.connect(self.projects.ask_open)
        self.start_page.demoRequested.connect(self.projects.open_demo)
        self.start_page.recentChosen.connect(self.projects.open_path)
        self.status.cancelRequested.connect(self.cancel_jobs)
        self.status.modelRequested.connect(self.detection.choose_model)
        for control in (self.projects, self.detection):
            control.message.connect(lambda text: self.status.showMessage(text, 15000))
        self.detection.deviceKnown.connect(self.status.show_device)
        self.detection.modelChanged.connect(self.status.show_model)
        self.detection.flipsChanged.connect(self.actions["flips"].setChecked)
        self.actions["flips"].setChecked(self.detection.uses_flips())
        for runner in (self.detection_runner, self.task_runner):
            runner.started.connect(lambda _: self._refresh())
            runner.stopped.connect(lambda _: self._refresh())
        self.status.show_model(self.detection.model_id())

    # ----------------------------------------------------------------- state
    def _refresh(self) -> None:
        project = self.session.project
        locked = " (read-only)" if project is not None and project.read_only else ""
        self.setWindowTitle(f"{project.path.name}{locked} — {APP_NAME}" if project else APP_NAME)
        self.stack.setCurrentWidget(self.viewer if project else self.start_page)
        self._show_docks(project is not None)
        self.threshold.setEnabled(project is not None)
        if project is None:
            self.start_page.set_recent(self.settings.recent_projects())
        running = self.detection_runner.running or self.task_runner.running
        self.actions.update(project=project is not None,
                            micrograph=self.viewer.view.has_image, running=running,
                            can_undo=self.undo_stack.canUndo(),
                            can_redo=self.undo_stack.canRedo(),
                            writable=project is not None and not project.read_only)
        if not self.viewer.view.has_image:
            self.viewer.editor.set_active(False)

    def _show_docks(self, project_open: bool) -> None:
        """The start page has the window to itself; the panels come back as the user left
        them when a project opens."""
        docks = (self.browser_dock, self.counts_dock, self.statistics_dock)
        if not project_open and self._hidden_docks is None:
            self._hidden_docks = {d: not d.isHidden() for d in docks}
            for dock in docks:
                dock.hide()
        elif project_open and self._hidden_docks is not None:
            for dock, visible in self._hidden_docks.items():
                dock.setVisible(visible)
            self._hidden_docks = None

    def open_initial(self, project: Optional[Path]) -> None:
        """Open ``project``, else the last project if it still exists, else the start page."""
        target = project or self.settings.last_project()
        if target is not None and (project is not None or Path(target).exists()):
            self.projects.open_path(Path(target))
        self._refresh()

    def detect_experiment(self) -> None:
        eid = self.browser.current_experiment_id()
        name = next((e.name for e in self.session.experiments if e.id == eid), "")
        self.detection.detect([m.id for m in self.session.micrographs.get(eid, [])],
                              f"experiment {name}")

    @property
    def statistics(self):
        """The statistics panel, built on first use."""
        if self._statistics is None:
            from temnet_app.gui.stats import StatisticsPanel

            self._statistics = StatisticsPanel(self.session, self)
            self._statistics.experimentClicked.connect(self._select_experiment_named)
            self.detection_runner.started.connect(lambda _: self._statistics.set_paused(True))
            self.detection_runner.stopped.connect(lambda _: self._statistics.set_paused(False))
            self.statistics_dock.setWidget(self._statistics)
        return self._statistics

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._statistics is None:
            QTimer.singleShot(0, lambda: self.statistics)

    def _select_experiment_named(self, name: str) -> None:
        found = next((e for e in self.session.experiments if e.name == name), None)
        if found is not None:
            self.browser.select_experiment(found.id)

    def cancel_jobs(self) -> None:
        self.detection.cancel()
        self.task_runner.cancel()

    def _stop_jobs(self, question: str) -> bool:
        """If a job runs: ask, then cancel and wait for it. False when the user says no."""
        runners = [r for r in (self.detection_runner, self.task_runner) if r.running]
        training = self.model_control.training
        if not runners and not training:
            return True
        names = " and ".join([r.name for r in runners] + (["training"] if training else []))
        answer = QMessageBox.question(self, APP_NAME, f"{names.capitalize()} is running. "
                                      f"{question} Finished micrographs are kept.")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        for runner in runners:
            runner.cancel_and_wait()
        if training:
            self.model_control.cancel_training()
        return True

    def close_project(self) -> None:
        if self._stop_jobs("Cancel it and close the project?"):
            self.projects.close_project()

    def reset_layout(self) -> None:
        self._hidden_docks = None
        self.restoreState(self._default_state)
        for dock in (self.browser_dock, self.counts_dock, self.statistics_dock):
            dock.setFloating(False)
            dock.show()
        self._refresh()

    def _add_dropped(self, paths: list, experiment_id: int) -> None:
        self.projects.add_paths(paths, None if experiment_id == -1 else experiment_id)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.projects.add_paths(paths, self.browser.current_experiment_id())

    def closeEvent(self, event) -> None:
        if not self._stop_jobs("Cancel it and quit?"):
            event.ignore()
            return
        self._show_docks(True)            # save the panels as the user left them
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
        self.settings.set_threshold(self.session.threshold)
        self.settings.sync()
        self.session.close()
        event.accept()
