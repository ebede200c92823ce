"""Ground floor: numpy / pandas / scipy / tifffile / Pillow / matplotlib only, no Qt, no TensorFlow.

Its own modules (boxes, box_math, errors, units, atomic, progress) are imported directly; each
concern has a folder whose ``__init__`` is its face: micrographs, annotations, project,
analysis, reports.
"""
