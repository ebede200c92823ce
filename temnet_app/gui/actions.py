"""Every command of the window in one table: its menu, text, shortcut, tip, whether it is a
toggle, and when it is enabled. The window binds handlers to the keys and builds menus and the
toolbar from this table; nothing else creates QActions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

Key = Union[str, QKeySequence.StandardKey, None]
ALWAYS, PROJECT, MICROGRAPH, IDLE, RUNNING = "always", "project", "micrograph", "idle", "running"
UNDO, REDO = "undo", "redo"
WRITABLE = "writable"       # a project open for writing, no job running


@dataclass(frozen=True)
class Spec:
    key: str
    menu: str
    text: str
    shortcut: Key = None
    tip: str = ""
    when: str = ALWAYS          # always | project | micrograph | idle (project, no run) | running
    #                             | writable (idle, and the project is not read-only)
    checkable: bool = False
    checked: bool = False


SPECS: tuple[Spec, ...] = (
    Spec("new", "File", "&New project…", QKeySequence.StandardKey.New,
         "Create an empty project file"),
    Spec("open", "File", "&Open project…", QKeySequence.StandardKey.Open, "Open a .temnet file"),
    Spec("open_demo", "File", "Open &demo project", None,
         "Open (and create the first time) the demo project of simulated micrographs"),
    Spec("save_copy", "File", "Save a &copy as…", "Ctrl+Shift+S",
         "Write a copy of the project file; keep working in this one", PROJECT),
    Spec("add_folder", "File", "&Add folder of micrographs…", "Ctrl+Shift+O",
         "Add a folder as a new experiment (dropping folders on the browser does the same)",
         PROJECT),
    Spec("add_files", "File", "Add micrograph &files…", None,
         "Add image files to the selected experiment", PROJECT),
    Spec("import", "File", "&Import annotations…", "Ctrl+I",
         "Import manual boxes (VIA CSV, COCO JSON) or counts (counts CSV), matched by file "
         "name", PROJECT),
    Spec("export", "File", "&Export…", "Ctrl+Shift+E",
         "Write the report (CSV tables, PDF), the manual annotations (VIA CSV, COCO JSON) "
         "and PNG overlays", PROJECT),
    Spec("close_project", "File", "C&lose project", QKeySequence.StandardKey.Close, "", PROJECT),
    Spec("quit", "File", "&Quit", QKeySequence.StandardKey.Quit),
    Spec("undo", "Edit", "&Undo", QKeySequence.StandardKey.Undo, "Undo the last box edit",
         UNDO),
    Spec("redo", "Edit", "&Redo", "Ctrl+Shift+Z", "Redo the box edit undone last", REDO),
    Spec("annotate", "Edit", "&Annotation mode", "Ctrl+E",
         "Draw, move, resize, relabel and delete manual boxes on the micrograph", MICROGRAPH,
         True, False),
    Spec("accept", "Edit", "Acce&pt detections as annotations", "Ctrl+Shift+A",
         "Make the detections above the threshold the manual boxes of the shown micrograph "
         "(or of the micrographs selected in the browser), then correct them", PROJECT),
    Spec("reviewed", "Edit", "Mark &reviewed", "Ctrl+Return",
         "Mark the shown micrograph's manual boxes as checked (press again to unmark)",
         MICROGRAPH),
    Spec("manual_counts", "Edit", "Manual &counts…", None,
         "Enter counts per class for micrographs annotated without boxes", PROJECT),
    Spec("copy_command", "Edit", "Copy the last &temnet command", None,
         "The command line that repeats the last detection run or export", ALWAYS),
    Spec("new_experiment", "Project", "&New experiment…", None, "An empty experiment", PROJECT),
    Spec("rename", "Project", "&Rename experiment", "F2", "", PROJECT),
    Spec("remove", "Project", "Re&move from project…", None,
         "Remove the selected experiments or micrographs (image files stay on disk)", PROJECT),
    Spec("magnification", "Project", "Set &scale (pixel size, magnification)…", "Ctrl+M",
         "Pixel size and magnification of the selected experiment or micrograph", PROJECT),
    Spec("camera", "Project", "&Camera calibration…", None,
         "The camera's pixel size at a magnification, for converting magnifications", PROJECT),
    Spec("classes", "Project", "C&lasses…", None,
         "Rename, recolour, add or remove the project's particle classes", WRITABLE),
    Spec("fit", "View", "&Fit to window", "Ctrl+0", "", MICROGRAPH),
    Spec("actual", "View", "&Actual size (1:1)", "Ctrl+1", "", MICROGRAPH),
    Spec("zoom_in", "View", "Zoom &in", QKeySequence.StandardKey.ZoomIn, "", MICROGRAPH),
    Spec("zoom_out", "View", "Zoom &out", QKeySequence.StandardKey.ZoomOut, "", MICROGRAPH),
    Spec("previous", "View", "&Previous micrograph", "PgUp", "", MICROGRAPH),
    Spec("next", "View", "&Next micrograph", "PgDown", "", MICROGRAPH),
    Spec("show_predicted", "View", "Show &detections", "Ctrl+D", "", ALWAYS, True, True),
    Spec("show_manual", "View", "Show &manual boxes", "Ctrl+Shift+M", "", ALWAYS, True, True),
    Spec("show_labels", "View", "Show confidence &labels", "Ctrl+L", "", ALWAYS, True, False),
    Spec("reset_layout", "View", "&Reset layout", None, "Put the panels back where they started"),
    Spec("detect_selection", "Run", "Detect in &selection", "Ctrl+R",
         "Run the detector on the selected micrographs (or experiments)", IDLE),
    Spec("detect_experiment", "Run", "Detect in &experiment", "Ctrl+Shift+R",
         "Run the detector on every micrograph of the current experiment", IDLE),
    Spec("detect_project", "Run", "Detect in whole &project", None, "", IDLE),
    Spec("cancel", "Run", "&Cancel", "Esc", "Stop the running job; finished micrographs are "
         "kept", RUNNING),
    Spec("choose_model", "Run", "Detector &model…", None,
         "Choose the shipped model or another model folder, with its card", ALWAYS),
    Spec("flips", "Run", "A&verage over mirrored copies", None,
         "Detect on each micrograph and three mirrored copies and average the scores: fewer "
         "spurious boxes, four detection passes (set per model; the model's card "
         "decides the default)", ALWAYS, True, False),
    Spec("models", "Run", "Models of the &project…", None,
         "The shipped model and the ones trained here, their cards, and a comparison on the "
         "reviewed micrographs", PROJECT),
    Spec("train", "Run", "&Train a model on the corrections…", None,
         "Fine-tune (or train) a detector on the project's manual boxes, in the background",
         PROJECT),
    Spec("shortcuts", "Help", "&Keyboard shortcuts", "F1"),
    Spec("log_folder", "Help", "Open &log folder", None, "Where TEMNet Studio writes its log"),
    Spec("about", "Help", "&About TEMNet Studio", None),
)
MENUS = ("File", "Edit", "Project", "View", "Run", "Help")


class Actions:
    """The QActions of :data:`SPECS`, their handlers and their enabled state."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        self.specs = {spec.key: spec for spec in SPECS}
        self.actions: dict[str, QAction] = {}
        for spec in SPECS:
            action = QAction(spec.text, parent)
            action.setObjectName(f"action_{spec.key}")
            if spec.shortcut is not None:
                action.setShortcut(QKeySequence(spec.shortcut))
            if spec.tip:
                action.setStatusTip(spec.tip)
                action.setToolTip(spec.tip)
            action.setCheckable(spec.checkable)
            if spec.checkable:
                action.setChecked(spec.checked)
            parent.addAction(action)  # shortcuts work even when no menu shows the action
            self.actions[spec.key] = action

    def __getitem__(self, key: str) -> QAction:
        return self.actions[key]

    def bind(self, key: str, handler: Callable) -> None:
        action = self.actions[key]
        if self.specs[key].checkable:
            action.toggled.connect(handler)
        else:
            action.triggered.connect(lambda checked=False: handler())

    def in_menu(self, menu: str) -> list[QAction]:
        return [self.actions[s.key] for s in SPECS if s.menu == menu]

    def update(self, *, project: bool, micrograph: bool, running: bool,
               can_undo: bool = False, can_redo: bool = False, writable: bool = True) -> None:
        state = {ALWAYS: True, PROJECT: project, MICROGRAPH: micrograph,
                 IDLE: project and not running, RUNNING: running, UNDO: project and can_undo,
                 REDO: project and can_redo, WRITABLE: project and writable and not running}
        for spec in SPECS:
            self.actions[spec.key].setEnabled(state[spec.when])

    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = []
        for spec in SPECS:
            keys = self.actions[spec.key].shortcut().toString(QKeySequence.SequenceFormat.
                                                              NativeText)
            if keys:
                rows.append((keys, spec.text.replace("&", "").rstrip("…")))
        rows += [("Wheel", "Zoom around the cursor"), ("Drag", "Pan the micrograph"),
                 ("Arrow keys", "Scroll the micrograph")]
        return rows


def find_spec(key: str) -> Optional[Spec]:
    return next((s for s in SPECS if s.key == key), None)
