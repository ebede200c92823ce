"""Annotation files in and out: VIA CSV, COCO JSON and counts CSV."""

from temnet_app.core.annotations.coco import read_coco_json, write_coco_json
from temnet_app.core.annotations.counts import read_counts_csv, write_counts_csv
from temnet_app.core.annotations.via import (VIA_COLUMNS, class_scheme_from_via, read_via_csv,
                                             read_via_scales, via_class_names, write_via_csv)

__all__ = ["VIA_COLUMNS", "class_scheme_from_via", "read_coco_json", "read_counts_csv",
           "read_via_csv", "read_via_scales", "via_class_names", "write_coco_json",
           "write_counts_csv", "write_via_csv"]
