"""The keys that choose a class in annotation mode: its number (1-9) and its initial, when no
other class starts with the same letter (E, M, I for eccentric, mature, immature)."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt


def class_keys(names: Sequence[str]) -> dict[int, tuple[str, ...]]:
    """The keys that choose each class: its number (1-9) and its initial when no other class
    starts with the same letter (E, M, I for eccentric, mature, immature)."""
    initials = [n[:1].upper() for n in names]
    keys: dict[int, tuple[str, ...]] = {}
    for class_id, initial in enumerate(initials, start=1):
        own = (str(class_id),) if class_id <= 9 else ()
        unique = "A" <= initial <= "Z" and initials.count(initial) == 1
        keys[class_id] = own + ((initial,) if unique else ())
    return keys


def key_text(key: int) -> str:
    """The character of a digit (1-9) or letter key, else ""."""
    if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 or Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
        return chr(key)
    return ""
