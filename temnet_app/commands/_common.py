"""Pieces shared by several commands: a text progress bar, the --model, --mode and --threshold
arguments, prediction with a bar. (A leading underscore keeps this module out of the command
list.)"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import shutil
import sys
from pathlib import Path
from typing import Optional, TextIO


class TextProgress:
    """A ``progress(fraction, message)`` callback drawing a one-line bar on ``stream``.

    On a terminal the bar is redrawn in place; otherwise (a log file, a pipe) one line is
    written each time the job advances by ``step`` (5%) or more, so logs stay short.
    """

    def __init__(self, stream: Optional[TextIO] = None, width: int = 30, step: float = 0.05):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.step = step
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = -1.0
        self._open_line = False

    def bar(self, fraction: float, message: str) -> str:
        fraction = min(1.0, max(0.0, float(fraction)))
        filled = int(math.floor(fraction * self.width))
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction * 100:5.1f}%  {message}"

    def __call__(self, fraction: float, message: str) -> None:
        line = self.bar(fraction, message)
        if self._tty:
            columns = shutil.get_terminal_size((100, 20)).columns
            self.stream.write("\r" + line[:max(10, columns - 1)].ljust(columns - 1))
            self._open_line = True
        elif fraction >= 1.0 or fraction - self._last >= self.step - 1e-9 or self._last < 0:
            self.stream.write(line + "\n")
            self._last = fraction
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line (call once the job is over, before printing results)."""
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False


def add_mode_argument(parser) -> None:
    """``--mode tiled|whole``: how a micrograph is fed to the network (see detector.inference)."""
    parser.add_argument("--mode", choices=("tiled", "whole"), default=None,
                        help="tiled (overlapping windows, eq. 6) or whole-micrograph inference; "
                             "default: the model's own setting")


def add_flips_argument(parser) -> None:
    """``--flips / --no-flips``: average over mirrored copies (detector.flip_average)."""
    parser.add_argument("--flips", action=argparse.BooleanOptionalAction, default=None,
                        help="detect on the micrograph and three mirrored copies and average "
                             "(fewer spurious boxes, four detection passes); default: the "
                             "model's own setting")


def add_model_argument(parser) -> None:
    """``--model``: a model folder or the name of a shipped model (jobs.resolve_model_dir)."""
    parser.add_argument("--model", type=Path, default=None,
                        help="model folder (model_card.json + weights), or a shipped model by "
                             "name: temnet-gn-synthetic (trained on simulated micrographs only) "
                             "or temnet-gn-fast (for batches: ~2.5x the micrographs per second); "
                             "default: the shipped models/temnet-gn-pellet")


def threshold_arg(text: str) -> float:
    """argparse type: a confidence threshold in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def magnification_arg(text: str) -> float:
    """argparse type: a magnification inside the supported range (checked before any model
    or TensorFlow is loaded)."""
    from temnet_app.core.units import check_magnification

    try:
        return check_magnification(float(text))
    except ValueError as error:
        message = str(error) if "outside" in str(error) else f"not a number: {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def pixel_size_arg(text: str) -> float:
    """argparse type: a pixel size in nm that a TEM could give (about 0.017-17 nm/px)."""
    from temnet_app.core.scale import check_pixel_size

    try:
        return check_pixel_size(float(text))
    except ValueError as error:
        message = str(error) if "outside" in str(error) else f"not a number: {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def camera_arg(text: str):
    """argparse type: ``NM@MAG``, the camera's pixel size in nm at a nominal magnification
    (e.g. ``0.28@30000``), as a :class:`~temnet_app.core.scale.CameraCalibration`."""
    from temnet_app.core.scale import CameraCalibration

    size, at, mag = text.replace(" ", "").lower().rstrip("x").partition("@")
    try:
        if not at:
            raise ValueError(f"expected NM@MAGNIFICATION such as 0.28@30000, got {text!r}")
        return CameraCalibration(float(mag.replace(",", "")), float(size))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_scale_arguments(parser: argparse.ArgumentParser, what: str,
                        camera: bool = True) -> None:
    """``--pixel-size NM`` and ``--magnification M`` (a pixel size decides over a
    magnification) for ``what``, and ``--camera NM@MAG``."""
    parser.add_argument("--pixel-size", type=pixel_size_arg, default=None, metavar="NM",
                        help=f"pixel size in nm of {what} (decides over any magnification)")
    parser.add_argument("--magnification", type=magnification_arg, default=None, metavar="M",
                        help=f"nominal magnification of {what}, e.g. 25000 (converted to a "
                             f"pixel size with the camera calibration)")
    if camera:
        parser.add_argument("--camera", type=camera_arg, default=None, metavar="NM@MAG",
                            help="the camera's pixel size at a magnification, e.g. 0.28@30000 "
                                 "(default: the reference 0.561@30000, JEOL 1200EX + AMT 2k)")


def classes_arg(text: str):
    """``NAME[:#RRGGBB],...`` as a :class:`~temnet_app.core.classes.ClassScheme`."""
    from temnet_app.core.classes import ClassScheme

    try:
        return ClassScheme.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def whole_number(minimum: int, maximum: Optional[int] = None):
    """argparse type factory: an integer in ``[minimum, maximum]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum:,}" if maximum is not None else ""
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{upper}, not {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def run_arg(text: str):
    """argparse type: a detection run id, or "newest" (each micrograph's newest run)."""
    if text.strip().lower() == "newest":
        return "newest"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a run id or 'newest', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"run ids start at 1, got {value}")
    return value


@contextlib.contextmanager
def warnings_on_stderr(logger_name: str):
    """While inside, the warnings logged under ``logger_name`` also go to stderr as
    ``warning: MESSAGE`` lines (the log file gets them anyway)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def predict_with_bar(detector, paths, args: argparse.Namespace, what: str, stated=None):
    """``jobs.predict_files`` over ``paths`` at the scale options of ``args`` (see
    :func:`add_scale_arguments`), with a one-line header, a progress bar and one line per
    file naming its scale, on stderr; ``what`` names the inputs (e.g. "file(s)"); ``stated``:
    per-file scales, as ``jobs.predict_files`` takes them."""
    from temnet_app.jobs import predict_files

    print(f"model {detector.model_id} on {detector.device}; {len(paths)} {what}",
          file=sys.stderr)
    bar = TextProgress()
    try:
        results = predict_files(paths, detector, magnification=args.magnification,
                                pixel_size_nm=args.pixel_size, camera=args.camera,
                                stated=stated, progress=bar)
    finally:
        bar.close()
    for result in results:
        if result.scale is not None:
            print(f"{result.name}: {result.scale.describe()}", file=sys.stderr)
    return results


def percent(value: float) -> str:
    """A fraction as a percentage with one decimal, or "-" when undefined (NaN)."""
    return "-" if value is None or math.isnan(value) else f"{value * 100:.1f}"
