"""TEMNet Studio: detect and classify HIV-1 virions in thin-section TEM micrographs."""

__version__ = "0.1.0"
