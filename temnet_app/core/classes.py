"""The class scheme: a lab's ordered particle classes with their names and colours.

Class ids follow the published TEMNet dataset and research code: 0 is background, then
1 eccentric, 2 mature, 3 immature, the default scheme. A lab may train a detector on its own
classes (``temnet train --classes``); the model card and the project then carry the names and
colours, and every count table, plot, report and overlay takes them from there.

Colours are ``#rrggbb`` for white paper (plots, PDF reports); the window lightens the three
default ones on grey micrographs (:mod:`temnet_app.gui.style`). A class without a colour of its
own takes its default (the HIV classes) or the first colour of :data:`PALETTE` not used yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

DEFAULT_CLASS_NAMES: tuple[str, ...] = ("eccentric", "mature", "immature")

# Overlay / plot colours (paper figures): mature yellow, immature blue, eccentric green.
DEFAULT_CLASS_COLOURS: dict[str, str] = {
    "eccentric": "#2ca02c",
    "mature": "#f2c500",
    "immature": "#1f5fd6",
}
# Other classes, in order: the three default hues first (a lab's first classes look like the
# familiar ones), then colours that stay distinct on white paper and on grey micrographs.
PALETTE: tuple[str, ...] = ("#2ca02c", "#f2c500", "#1f5fd6", "#d62728", "#ff7f0e", "#17becf",
                            "#e377c2", "#9467bd", "#bcbd22", "#8c564b")
MAX_CLASSES = 50
_HEX = re.compile(r"#[0-9a-f]{6}")
_NAME_FORBIDDEN = set(",:\"\n\r\t")


def check_colour(colour: str) -> str:
    """``colour`` as lower-case ``#rrggbb`` (``#rgb`` is expanded), or ValueError."""
    text = str(colour).strip().lower()
    if re.fullmatch(r"#[0-9a-f]{3}", text):
        text = "#" + "".join(c * 2 for c in text[1:])
    if not _HEX.fullmatch(text):
        raise ValueError(f"colour {colour!r} is not of the form #rrggbb")
    return text


def default_colours(names: Sequence[str],
                    given: Sequence[Optional[str]] = ()) -> tuple[str, ...]:
    """A colour per name: ``given[i]`` when set, else the name's default, else the first
    palette colour nobody uses yet (the palette repeats once every colour is taken)."""
    given = list(given) + [None] * (len(names) - len(given))
    chosen: list[Optional[str]] = [
        check_colour(g) if g else DEFAULT_CLASS_COLOURS.get(n.lower()) for n, g in
        zip(names, given)]
    used = {c for c in chosen if c}
    free = [c for c in PALETTE if c not in used]
    for i, colour in enumerate(chosen):
        if colour is None:
            if not free:
                free = list(PALETTE)
            chosen[i] = free.pop(0)
    return tuple(chosen)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ClassScheme:
    """Ordered foreground class names and their colours; class id ``i + 1`` is ``names[i]``
    (0 is background). ``colours`` may be left out (defaults, see the module)."""

    names: tuple[str, ...] = DEFAULT_CLASS_NAMES
    colours: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.names, str):
            raise ValueError("class names must be a list of names, not one string")
        names = tuple(str(n).strip() for n in self.names)
        if not names or any(not n for n in names):
            raise ValueError(f"class names must be non-empty: {list(self.names)!r}")
        if len({n.lower() for n in names}) != len(names):
            raise ValueError(f"class names must be unique (letter case aside): "
                             f"{list(self.names)!r}")
        bad = [n for n in names if _NAME_FORBIDDEN & set(n)]
        if bad:
            raise ValueError(f"class name {bad[0]!r} holds a comma, colon, quote or line break")
        if len(names) > MAX_CLASSES:
            raise ValueError(f"{len(names)} classes; at most {MAX_CLASSES}")
        if len(self.colours) > len(names):
            raise ValueError(f"{len(self.colours)} colours for {len(names)} classes")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "colours", default_colours(names, tuple(self.colours)))

    @classmethod
    def parse(cls, text: str) -> "ClassScheme":
        """``"name,name:#rrggbb,..."`` (a colour after a colon is optional), or ValueError."""
        names, colours = [], []
        for part in str(text).split(","):
            name, _, colour = part.partition(":")
            names.append(name)
            colours.append(colour.strip() or None)
        return cls(tuple(names), tuple(colours))

    def spec(self) -> str:
        """The text :meth:`parse` reads back into this scheme."""
        return ",".join(f"{n}:{c}" for n, c in zip(self.names, self.colours))

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(range(1, len(self.names) + 1))

    def name(self, class_id: int) -> str:
        if not 1 <= int(class_id) <= len(self.names):
            raise ValueError(f"unknown class id {class_id} (classes are 1..{len(self.names)})")
        return self.names[int(class_id) - 1]

    def id(self, name: str) -> int:
        key = str(name).strip().lower()
        for i, n in enumerate(self.names, start=1):
            if n.lower() == key:
                return i
        raise ValueError(f"unknown class {name!r} (expected one of {', '.join(self.names)})")

    def colour(self, class_id: int) -> str:
        """``#rrggbb`` of class ``class_id``."""
        self.name(class_id)
        return self.colours[int(class_id) - 1]

    def same_classes(self, other: "ClassScheme") -> bool:
        """Whether ``other`` has the same class names in the same order (letter case aside)."""
        return [n.lower() for n in self.names] == [n.lower() for n in other.names]

    def describe(self) -> str:
        return ", ".join(self.names)


DEFAULT_SCHEME = ClassScheme()
