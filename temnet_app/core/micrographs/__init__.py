"""Micrograph files: decoding (TIFF, PNG, JPEG, MRC, DM3/DM4, SER), grey and 8-bit stretch,
info band, and the scale each file states."""

from temnet_app.core.micrographs.reader import (DEFAULT_MAX_PIXELS, FORMAT_LIST,
                                                MICROGRAPH_SUFFIXES, SUPPORTED_SUFFIXES,
                                                LoadedMicrograph, MicrographInfo,
                                                is_micrograph_file, read_info, read_micrograph)

__all__ = ["DEFAULT_MAX_PIXELS", "FORMAT_LIST", "MICROGRAPH_SUFFIXES", "SUPPORTED_SUFFIXES",
           "LoadedMicrograph", "MicrographInfo", "is_micrograph_file", "read_info",
           "read_micrograph"]
