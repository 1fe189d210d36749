"""Markdown rendering: the shortcut for plain paragraphs gives exactly what the parser gives."""
import random

import pytest

from ask.qa.text import _render_parsed, render_markdown

# Every character the shortcut lets through, and some it must not (* _ ` [ < & # | \ ! > newline).
ALPHABET = "aZq0 ,.;:?'()/-" + "*_`[]<>&#|\\!~=+\"\n"


def test_plain_paragraphs_render_exactly_as_the_parser_renders_them():
    rng = random.Random(7)
    shortcut = 0
    for _ in range(30_000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 14)))
        assert render_markdown(text) == _render_parsed(text), repr(text)
        shortcut += "\n" not in text and all(c in "aZq0 ,.;:?'()/-" for c in text) and text[0].isalpha()
    assert shortcut > 300, "the shortcut was exercised"


@pytest.mark.parametrize("text", [
    "First paragraph, with words.\n\nSecond one: (with parentheses) and 3 numbers?",
    "Use http://example.com/path-to/page for details",
    "a - b -- c --- d",
    "Line one\nline two",  # a soft break becomes <br>: the parser's job
    "Hello <b>world</b> & friends",
    "1. not a paragraph",
    "Trailing space \n\nnext",
])
def test_typical_texts_render_the_same_both_ways(text):
    assert render_markdown(text) == _render_parsed(text)
