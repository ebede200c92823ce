"""One module per ``temnet`` sub-command.

Each module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``;
the command is the module's name with ``-`` for ``_``, or its ``NAME`` (``import`` is a Python
keyword, so that command lives in ``import_file.py``).
Modules import heavy libraries (TensorFlow, Qt) inside ``run`` only, so ``temnet --help``
stays fast.
"""
