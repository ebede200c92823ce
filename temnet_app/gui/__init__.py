"""PySide6 desktop interface. The only layer that imports Qt."""
