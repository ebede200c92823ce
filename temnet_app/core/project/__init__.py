"""The SQLite project file: experiments, micrographs, manual reference data, detection runs."""

from temnet_app.core.project.project import PROJECT_SUFFIX, SCHEMA_VERSION, Project
from temnet_app.core.project.records import (AddFolderResult, ChangeEvent, DetectionRun, Experiment,
                                             Micrograph)

__all__ = ["PROJECT_SUFFIX", "SCHEMA_VERSION", "AddFolderResult", "ChangeEvent",
           "DetectionRun", "Experiment", "Micrograph", "Project"]
