"""The PySide6 desktop window: the only layer that imports Qt. It never imports TensorFlow
itself; detection runs through :mod:`temnet_app.jobs` in a worker thread."""
