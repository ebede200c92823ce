"""MRC / MRC2014 micrographs (cryo-EM and many TEM cameras' exports), read with mrcfile.

The pixel size comes from the header's voxel size (angstroms; 0 means unknown); MRC has no
magnification field, so none is reported. A stack (nz > 1) or a volume is refused like a
multi-page TIFF volume.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from temnet_app.core.micrographs.source import (SourceImage, check_dtype, check_size, fail,
                                                plausible_pixel_size)

MRC_MAGIC_OFFSET = 208          # "MAP " at byte 208 of every MRC2014 header


def looks_like_mrc(head: bytes) -> bool:
    return len(head) >= MRC_MAGIC_OFFSET + 4 and \
        head[MRC_MAGIC_OFFSET:MRC_MAGIC_OFFSET + 4] == b"MAP "


def read_mrc(path: Path, *, header_only: bool, max_pixels: int) -> SourceImage:
    """Decode a 2-D MRC (or only its header). Raises MicrographError."""
    import mrcfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # mrcfile's header complaints
            with mrcfile.mmap(path, mode="r", permissive=True) as mrc:
                header = mrc.header
                nx, ny, nz = (int(header.nx), int(header.ny), int(header.nz))
                if mrc.data is None:
                    raise fail(path, "the MRC file is truncated or damaged (no readable image "
                                     "data)")
                if nz > 1 or mrc.data.ndim != 2:
                    what = "volume" if mrc.is_volume() else "stack"
                    raise fail(path, f"it is a 3-D {what} of {nz} sections ({nx} x {ny} x "
                                     f"{nz}); open one 2-D micrograph per file")
                check_dtype(path, mrc.data.dtype)
                check_size(path, ny, nx, max_pixels)
                size_nm = plausible_pixel_size(float(mrc.voxel_size.x) / 10.0)
                source = SourceImage(format="mrc", dtype=np.dtype(mrc.data.dtype).name,
                                     shape=(ny, nx), height=ny, width=nx, page_count=1,
                                     magnification=None, pixel_size_nm=size_nm)
                if not header_only:
                    # rows in the file's order (as mrcfile gives them); some viewers show
                    # MRC images flipped vertically, which boxes exported from here will not be
                    source.grey = np.array(mrc.data)
                return source
    except MemoryError:
        raise fail(path, "not enough memory to decode the image") from None
    except ValueError as error:          # mrcfile: damaged header, truncated data
        raise fail(path, f"not a readable MRC file ({error})") from None
    except OSError as error:
        raise fail(path, error.strerror or str(error)) from None
