"""A ``temnet train`` run in a child process (QProcess): its progress lines become signals, its
checkpoint is read every few seconds for the learning curves, and a cancel ends the process
(the checkpoint of the last finished epoch stays, so the run can be resumed)."""

from __future__ import annotations

import os
import re
import time
from typing import Optional

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from temnet_app.jobs import TrainingPlan, read_training_state

# "12:01:02  37.5%  epoch 3/10 [all] step 12/40 ..." (temnet train's progress lines)
_LINE = re.compile(r"^\d\d:\d\d:\d\d\s+(\d+(?:\.\d+)?)%\s+(.*)$")
POLL_MS = 1500


class TrainingProcess(QObject):
    """One training run at a time."""

    progressed = Signal(float, str)     # fraction, message
    stateChanged = Signal(object)       # jobs.TrainingState
    finished = Signal(bool, str)        # success, last line / error for the user

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.process: Optional[QProcess] = None
        self.plan: Optional[TrainingPlan] = None
        self.started_at = 0.0
        self.fraction = 0.0
        self.cancelled = False
        self._tail: list[str] = []
        self._buffer = ""
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._read_state)

    @property
    def running(self) -> bool:
        return self.process is not None and \
            self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, plan: TrainingPlan) -> None:
        if self.running:
            raise RuntimeError("a training run is already running")
        self.plan, self.cancelled, self.fraction = plan, False, 0.0
        self._tail, self._buffer = [], ""
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("TF_CPP_MIN_LOG_LEVEL", "2")
        environment.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(environment)
        process.setWorkingDirectory(str(plan.project.parent))
        process.readyReadStandardError.connect(self._read_output)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        argv = plan.argv()
        self.process = process
        self.started_at = time.monotonic()
        process.start(argv[0], argv[1:])
        self._poll.start()

    def eta_seconds(self) -> Optional[float]:
        """Time left from the run's own speed so far (None until it has made progress)."""
        if self.fraction < 0.02:
            return None
        elapsed = time.monotonic() - self.started_at
        return elapsed * (1.0 - self.fraction) / self.fraction

    def cancel(self, wait_ms: int = 10_000) -> None:
        """End the run: terminate, then kill if it does not stop in time; waits for it."""
        if not self.running:
            return
        self.cancelled = True
        self.process.terminate()
        if not self.process.waitForFinished(wait_ms):
            self.process.kill()
            self.process.waitForFinished(wait_ms)

    # ----------------------------------------------------------------- process output
    def _read_output(self) -> None:
        process = self.process
        data = bytes(process.readAllStandardError()) + bytes(process.readAllStandardOutput())
        self._buffer += data.decode("utf-8", errors="replace")
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            line = line.rstrip()
            if not line:
                continue
            self._tail = (self._tail + [line])[-20:]
            match = _LINE.match(line)
            if match:
                self.fraction = float(match.group(1)) / 100.0
                self.progressed.emit(self.fraction, match.group(2))

    def _read_state(self) -> None:
        if self.plan is not None:
            state = read_training_state(self.plan.out)
            if state is not None:
                self.stateChanged.emit(state)

    def _finished(self, exit_code: int, status) -> None:
        self._read_output()
        self._poll.stop()
        self._read_state()
        ok = exit_code == 0 and status == QProcess.ExitStatus.NormalExit and not self.cancelled
        if self.cancelled:
            message = "training cancelled; the last finished epoch is kept (Resume continues)"
        elif ok:
            message = next((line for line in reversed(self._tail)
                            if line.startswith("wrote ")), "training finished")
        else:
            errors = [line for line in self._tail if "error" in line.lower()]
            message = errors[-1] if errors else (self._tail[-1] if self._tail else
                                                 f"training stopped (exit code {exit_code})")
        self.finished.emit(ok, message)

    def _error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._poll.stop()
            self.finished.emit(False, f"cannot start the training process: "
                                      f"{self.process.errorString()}")


def format_eta(seconds: Optional[float]) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def cpu_count() -> int:
    return os.cpu_count() or 1
