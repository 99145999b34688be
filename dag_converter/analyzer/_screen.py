"""Limits checked before a source is parsed: libcst must never see input that crashes it."""

from __future__ import annotations

import io
import re
import tokenize
from typing import Final

# Hostile or generated sources must not crash the process: libcst's native parser recurses once
# per nesting level and overflows the C stack (a segmentation fault, not an exception) somewhere
# between 3,000 and 10,000 levels of `((((1))))`, `-` `-` `-1`, `a+a+a...`, `elif` chains and the like.
# So every source is first screened with the standard library's tokenizer (linear, no recursion)
# against limits no real DAG file reaches, and the analysis then runs on a thread with a large
# stack as a second margin (pipeline.py).
MAX_BRACKET_DEPTH: Final = 200  #: CPython's own limit ("too many nested parentheses")
MAX_INDENT_DEPTH: Final = 100  #: CPython's own limit ("too many levels of indentation")
MAX_NESTING: Final = 1_000  #: estimated syntax tree depth (operators, brackets, blocks, elif chains)
MAX_STATEMENT_TOKENS: Final = 250_000  #: tokens in one statement (a literal of ~100,000 elements)
# Keywords that nest an expression one level deeper in the syntax tree.
_NESTING_KEYWORDS: Final = frozenset({"not", "and", "or", "if", "else", "lambda", "await", "in", "is", "for",
                                      "yield", "async"})


# Every token the screen below counts as a nesting level holds one of these characters (operators,
# brackets, quotes of a string, the `:` every block header ends with) or is one of these keywords.
_LEVEL_CHARS: Final = "-+*/%@&|^~<>=.!:([{'\""
_WITHOUT_LEVEL_CHARS: Final = str.maketrans("", "", _LEVEL_CHARS)
_LEVEL_KEYWORDS: Final = re.compile(r"\b(?:a(?:nd|wait|sync)|el(?:if|se)|for|i[fns]|lambda|not|or|yield)\b")
_LEADING_SPACE: Final = re.compile(r"^[ \t\f]+", re.MULTILINE)


def clearly_within_limits(text: str) -> bool:
    """A cheap, sound pre-check (about a tenth of the tokenizer's cost): True only when even
    counting every candidate character the limits below cannot be reached, so the full screen
    would find nothing. Ordinary DAG files pass; the rest get the full screen."""
    if len(text) > MAX_STATEMENT_TOKENS:  # a token is at least one character
        return False
    if text.count("(") + text.count("[") + text.count("{") > MAX_BRACKET_DEPTH:
        return False
    if max((len(m) for m in _LEADING_SPACE.findall(text)), default=0) > MAX_INDENT_DEPTH:
        return False  # an indentation level is at least one character of leading white space
    level_chars = len(text) - len(text.translate(_WITHOUT_LEVEL_CHARS))
    return level_chars <= MAX_NESTING and level_chars + len(_LEVEL_KEYWORDS.findall(text)) <= MAX_NESTING


def nesting_problem(text: str) -> tuple[int, str] | None:
    """(line, why) when the source is nested deeper, or has a longer statement, than the limits above.

    The tree depth is over-estimated from tokens: every bracket and operator adds a level to the
    comma-separated item it is in (`a+a+a` is three levels deep, `[a, a, a]` one), plus the block
    depth and the `elif` chain, which the parser nests like the blocks themselves. A tokenizer
    error is left to the parser, which reports it as a syntax error."""
    if clearly_within_limits(text):
        return None
    return tokenizer_screen(text)


def tokenizer_screen(text: str) -> tuple[int, str] | None:
    """The full screen: the nesting estimate described in `nesting_problem`, token by token."""
    levels = [0]  # per open bracket: levels added since the last comma at that bracket level
    nested = 0  # sum(levels)
    indent = 0
    elif_chains: dict[int, int] = {}
    block_depth = 0
    statement_tokens = 0
    line_start = True
    too_deep = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = token.type, token.string
            line = token.start[0]
            if kind in (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER):
                continue
            if kind == tokenize.INDENT:
                indent += 1
                if indent > MAX_INDENT_DEPTH:
                    too_deep = f"blocks nested more than {MAX_INDENT_DEPTH} levels deep (Python's own limit)"
                    break
                continue
            if kind == tokenize.DEDENT:
                indent -= 1
                continue
            if kind == tokenize.NEWLINE or (kind == tokenize.OP and string == ";"):
                levels, nested, statement_tokens, line_start = [0], 0, 0, True
                continue
            statement_tokens += 1
            if statement_tokens > MAX_STATEMENT_TOKENS:
                too_deep = f"a statement longer than {MAX_STATEMENT_TOKENS} tokens"
                break
            if line_start:
                line_start = False
                for level in [k for k in elif_chains if k > indent]:
                    del elif_chains[level]
                if string == "elif":
                    elif_chains[indent] = elif_chains.get(indent, 0) + 1
                elif string != "else":
                    elif_chains[indent] = 0
                block_depth = indent + sum(elif_chains.values())
            if kind == tokenize.OP:
                if string in "([{":
                    levels[-1] += 1
                    nested += 1
                    levels.append(0)
                    if len(levels) - 1 > MAX_BRACKET_DEPTH:
                        too_deep = f"brackets nested more than {MAX_BRACKET_DEPTH} levels deep (Python's own limit)"
                        break
                elif string in ")]}":
                    if len(levels) > 1:
                        nested -= levels.pop()
                elif string == ",":
                    nested -= levels[-1]
                    levels[-1] = 0
                else:
                    levels[-1] += 1
                    nested += 1
            elif kind == tokenize.STRING or (kind == tokenize.NAME and string in _NESTING_KEYWORDS):
                levels[-1] += 1  # adjacent strings nest too: "a" "b" "c" is a chain of concatenations
                nested += 1
            if block_depth + nested > MAX_NESTING:
                too_deep = f"an expression or block nested more than {MAX_NESTING} levels deep"
                break
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        return None
    if too_deep is None:
        return None
    return line, f"source too complex to analyse: {too_deep}"


__all__ = ["clearly_within_limits", "MAX_BRACKET_DEPTH", "MAX_INDENT_DEPTH", "MAX_NESTING", "MAX_STATEMENT_TOKENS", "nesting_problem"]
