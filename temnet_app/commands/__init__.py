"""One module per ``temnet`` sub-command.

Each module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
Modules import heavy libraries (TensorFlow, Qt) inside ``run`` only, so ``temnet --help``
stays fast.
"""
