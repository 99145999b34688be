"""The cheap pre-check of the nesting screen never clears a source the full screen would refuse."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dag_converter.analyzer._screen import MAX_NESTING, clearly_within_limits, tokenizer_screen

ROOT = Path(__file__).resolve().parents[2]
PIECES = ["(", ")", "[", "]", "{", "}", "-", "+", "not ", " and ", "x", "1", ",", "\n", "    ", "if x:\n",
          "elif y:\n", "'s'", "lambda: ", ".a", "f()", ":", " in ", "\t", "else:\n"]


def _agrees(text: str) -> None:
    if clearly_within_limits(text):
        assert tokenizer_screen(text) is None, text[:200]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=3000))
def test_precheck_is_sound_on_generated_sources(pieces: list[str]) -> None:
    _agrees("".join(pieces))


def test_precheck_is_sound_near_the_limits() -> None:
    for depth in (MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1):
        for text in ("x = " + "-" * depth + "1\n", "x = " + "+".join(["a"] * depth) + "\n",
                     "x = " + "not " * depth + "y\n", "x = " + "(" * 199 + "1" + ")" * 199 + "\n"):
            _agrees(text)
            assert tokenizer_screen(text) is None or not clearly_within_limits(text)


def test_fixtures_pass_the_precheck() -> None:
    files = sorted((ROOT / "fixtures" / "dags").rglob("*.py"))
    assert files and all(clearly_within_limits(f.read_text(encoding="utf-8")) for f in files)
