"""Class schemes: a lab's own class names and colours, parsed from the command-line text."""

import pytest

from temnet_app.core.classes import (DEFAULT_SCHEME, PALETTE, ClassScheme, check_colour,
                                     default_colours)


def test_default_scheme_keeps_the_hiv_colours():
    assert DEFAULT_SCHEME.names == ("eccentric", "mature", "immature")
    assert DEFAULT_SCHEME.colours == ("#2ca02c", "#f2c500", "#1f5fd6")
    assert ClassScheme(("Mature",)).colours == ("#f2c500",)  # letter case aside


def test_parse_names_and_optional_colours_round_trip():
    scheme = ClassScheme.parse(" RiftValley:#E41A1C, Ebola ,Marburg:#0f0,Lassa")
    assert scheme.names == ("RiftValley", "Ebola", "Marburg", "Lassa")
    # given colours are kept (normalised); the others take the first palette colours unused
    assert scheme.colours == ("#e41a1c", PALETTE[0], "#00ff00", PALETTE[1])
    assert ClassScheme.parse(scheme.spec()) == scheme
    assert scheme.colour(3) == "#00ff00" and scheme.id("lassa") == 4


def test_default_names_among_custom_ones_keep_their_colour_and_no_colour_repeats():
    colours = default_colours(["budding", "mature", "free", "eccentric", "x"])
    assert colours[1] == "#f2c500" and colours[3] == "#2ca02c"
    assert len(set(colours)) == 5
    # more classes than palette colours: the palette repeats, nothing fails
    many = default_colours([f"c{i}" for i in range(len(PALETTE) + 3)])
    assert many[:len(PALETTE)] == PALETTE and many[len(PALETTE):] == PALETTE[:3]


@pytest.mark.parametrize("text, message", [
    ("", "non-empty"), ("a,,b", "non-empty"), ("a,A", "unique"),
    ("a:#12345", "#rrggbb"), ("a:red", "#rrggbb"), ('a"b', "comma, colon, quote"),
])
def test_bad_class_texts_are_refused_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        ClassScheme.parse(text)


def test_bad_schemes():
    with pytest.raises(ValueError, match="not one string"):
        ClassScheme("mature")
    with pytest.raises(ValueError, match="2 colours for 1 classes"):
        ClassScheme(("a",), ("#000000", "#ffffff"))
    assert check_colour("#ABC") == "#aabbcc"
    assert ClassScheme(("a", "b")).same_classes(ClassScheme(("A", "B"), ("#000000",)))
    assert not ClassScheme(("a", "b")).same_classes(ClassScheme(("b", "a")))
