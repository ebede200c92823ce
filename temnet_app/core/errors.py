"""Typed errors. Each carries a message fit to show a microscopy user as it is.

The CLI prints ``str(error)`` on one line and exits non-zero; the GUI shows it in a dialog.
"""


class TemnetError(Exception):
    """Base of every error the user should see as a clear message (never a traceback)."""


class MicrographError(TemnetError):
    """A micrograph file cannot be read or is not a usable 2-D image."""


class AnnotationError(TemnetError):
    """An annotation or counts file is malformed; the message names file and line."""


class ProjectError(TemnetError):
    """A project file is missing, not a TEMNet project, or cannot be changed as asked."""


class ModelError(TemnetError):
    """A detector model directory, model card or weights file is missing or invalid."""


class Cancelled(TemnetError):
    """Long work was cancelled by the user; everything finished before the cancel is kept."""


class OutputError(TemnetError):
    """An output file or folder cannot be created or written."""
