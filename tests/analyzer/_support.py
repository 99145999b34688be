"""Sources shared by the analyzer tests: tricky syntax, the verify cases, fixtures and the
provider example corpus when it is cached (see benchmarks/run.py)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TRICKY = '''\
"""Docstring."""  # comment
import os, sys as system
from a.b import (c,
    d as e)

@decorator(1)
# comment between decorator and def
async def f(x: int = (1 +
        2), *args, **kw) -> "T":
    """Doc."""
    return [i for i in ((x)) if i] + \\
        [lambda y: y]

class C(Base, metaclass=M):
    a: int = 1; b = 2
    def m(self): return f"{self.a!r:>{10}} {{x}}" "tail" 'x'

with open("f") as h, (ctx()) as (a, b):
    pass
if x: y = 1
elif z:
    pass
else:
    w = {**d, "k": [*l]}
try:
    t = x[1:2, ::3]
except (A, B) as exc:
    raise
finally:
    del t
match v:
    case {"a": 1, **rest}: pass
    case [1, *others] if others: pass
w = (yield_ := 3)
t = a if b else c
s >> [p, q] >> r
'''


def sources() -> list[tuple[str, str]]:
    sources = [("tricky", TRICKY), ("crlf", TRICKY.replace("\n", "\r\n")), ("cr", TRICKY.replace("\n", "\r")),
               ("tabs", "if x:\n\tif y:\n\t\tz = (1,\n\t\t\t2)\n"), ("no-newline", "x = 1")]
    folders = [ROOT / "tests" / "verify_cases", ROOT / "fixtures" / "dags"]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folders.append(cache / "dag-converter-corpus" / "amazon-9.30.0" / "tests" / "system" / "amazon" / "aws")
    for folder in folders:
        for path in sorted(folder.glob("*.py"))[:40]:
            sources.append((path.name, path.read_text(encoding="utf-8")))
    return sources
