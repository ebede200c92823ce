"""Domain layer: micrographs, boxes, projects, statistics, reports, simulator.

Only numpy / pandas / scipy / tifffile / Pillow / matplotlib here: no Qt, no TensorFlow.
"""
