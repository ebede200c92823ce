"""Short labels for plots and report titles: a name too long for its place keeps its start and
its end (where micrograph files differ: a sample's prefix, then an index and the extension)."""

from __future__ import annotations

ELLIPSIS = "…"


def elide_middle(text: str, width: int) -> str:
    """``text`` on one line, at most ``width`` characters: when longer, its first and last
    characters around an ellipsis (the end gets the odd character)."""
    text = " ".join(str(text).split())
    if width < 1:
        raise ValueError(f"width must be at least 1, not {width}")
    if len(text) <= width:
        return text
    keep = width - len(ELLIPSIS)
    head = keep // 2
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head):] if keep else ELLIPSIS
