"""Faster R-CNN + FPN detector (Keras 3 on TensorFlow). The only layer that imports TensorFlow."""
