# PyInstaller runtime hook of TEMNet Studio. TensorFlow's remote-profiler client
# (_pywrap_profiler_plugin, 90 MB) is left out of the bundle, but TensorFlow imports it when it
# loads; a stub takes its place and says so if anything ever calls it.
import sys
import types

_NAME = "tensorflow.python.profiler.internal._pywrap_profiler_plugin"
_stub = types.ModuleType(_NAME)


def _left_out(*args, **kwargs):
    raise RuntimeError("the TensorFlow profiler client is not part of TEMNet Studio")


_stub.trace = _left_out
_stub.monitor = _left_out
sys.modules[_NAME] = _stub
