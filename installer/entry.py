"""The frozen program's entry point (PyInstaller): ``TEMNetStudio`` opens the window;
``TEMNetStudio COMMAND ...`` runs a ``temnet`` sub-command; ``--self-test`` checks the
installation."""

import sys

from temnet_app.cli import main

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--self-test"]:
        arguments = ["self-test", *arguments[1:]]
    sys.exit(main(arguments))
