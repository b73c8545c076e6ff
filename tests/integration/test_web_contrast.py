"""Colour contrast of the desk's text: every pair of text and background custom properties that pages use
reaches WCAG AA for body text (4.5:1), computed from the values in dues.css itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "src" / "dues" / "web" / "static" / "web" / "dues.css"

# (text, background) as custom properties or literal colours, the way dues.css pairs them
PAIRS = [
    ("--ink", "--bg"), ("--ink", "--panel"), ("--ink-soft", "--bg"), ("--ink-soft", "--panel"),
    ("--muted", "--bg"), ("--muted", "--panel"), ("--muted", "#fafbfc"),      # table heads
    ("--brand-ink", "--brand"), ("--brand-soft", "--brand"),                  # top bar
    ("--accent", "--panel"), ("--accent", "--bg"), ("--accent", "--accent-soft"),
    ("--red", "--panel"), ("--red", "--red-soft"),
    ("#ffffff", "--accent"), ("#ffffff", "--red"), ("#ffffff", "--brand"),   # buttons, current page
    ("--brand", "--focus"),                                                   # the brand mark
    ("#8a5a12", "#fbf1dc"), ("#2f6b4f", "#e4f1ea"), ("--ink-soft", "#eef1f5"),  # badges
]


def _variables() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(), re.S).group(1)
    return {name: value.lower() for name, value in re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\b", root)}


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#6a7687", "#f4f6f9"), 2) == 4.26  # the old muted grey on the page: too faint


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_colours_reach_4_5_to_1(text, background):
    variables = _variables()
    fg, bg = (variables.get(c, c) for c in (text, background))
    assert fg.startswith("#") and bg.startswith("#"), (text, background)
    assert contrast(fg, bg) >= 4.5, f"{text} on {background}: {contrast(fg, bg):.2f}:1"
