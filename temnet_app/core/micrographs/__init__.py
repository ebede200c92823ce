"""Micrograph files: decoding (TIFF, PNG, JPEG, MRC), grey and 8-bit stretch, info band, scale."""

from temnet_app.core.micrographs.reader import (DEFAULT_MAX_PIXELS, SUPPORTED_SUFFIXES,
                                                LoadedMicrograph, MicrographInfo,
                                                is_micrograph_file, read_info, read_micrograph,
                                                resolve_magnification)

__all__ = ["DEFAULT_MAX_PIXELS", "SUPPORTED_SUFFIXES", "LoadedMicrograph", "MicrographInfo",
           "is_micrograph_file", "read_info", "read_micrograph", "resolve_magnification"]
