"""Dialogs: messages and errors, the model chooser, magnification, about and shortcuts."""
