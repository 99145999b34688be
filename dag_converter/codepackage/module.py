"""The generated module: the DAG file's callables and what they need, building no DAG.

MWAA Serverless extracts a code package into its DAG folder. Measured on Airflow 3.0.6 (DagBag over
a folder holding the original DAG file, the generated module and the YAML; docs/code-packages.md):
the original DAG file there is parsed as a second, Python DAG; the generated module is imported
(it mentions both "airflow" and "dag", Airflow's safe-mode test) but yields no DAG. So the package
never carries the DAG file itself: the callables defined in it go into `<dag_id>_tasks.py`, which holds
only imports, constants, functions and classes taken from the DAG file.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Sequence
from typing import Final

import libcst as cst

from dag_converter.codepackage.collect import Definition

_UNSAFE: Final = re.compile(r"[^0-9A-Za-z_]")
_SUFFIX: Final = "_tasks"


def module_name_for(dag_id: str, taken: Collection[str] = ()) -> str:
    """A module name for the DAG's callables: `<dag_id>_tasks`, made a valid identifier and unique.

    `taken` holds the top-level names already in the package (folder modules) or on sys.path
    before the DAG folder; a clash gets a numeric suffix, so the name never shadows one of them.
    """
    base = _UNSAFE.sub("_", dag_id).strip("_") or "dag"
    if base[0].isdigit():
        base = "dag_" + base
    name = base + _SUFFIX
    if keyword.iskeyword(name):  # pragma: no cover - "<x>_tasks" is never a keyword
        name += "_"
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def render_module(dag_id: str, source_name: str, definitions: Sequence[Definition], *,
                  future_annotations: bool = False) -> str:
    """The module's source: a header, the imports, then the definitions in the DAG file's order."""
    header = (f'"""Task code of {dag_id}, taken from {source_name} by dag-converter; it builds no workflow.\n'
              "\n"
              "Generated: change the source file and convert again instead of editing this one.\n"
              '"""\n')
    blocks: list[tuple[str, str]] = []  #: (kind, code)
    if future_annotations:
        blocks.append(("import", "from __future__ import annotations\n"))
    seen: set[str] = set()
    for definition in definitions:
        if definition.kind == "import" and not definition.code.startswith("from __future__ ") \
                and definition.code not in seen:
            seen.add(definition.code)
            blocks.append(("import", definition.code + "\n"))
    blocks.extend((d.kind, d.code.strip("\n") + "\n") for d in definitions if d.kind != "import")
    text = header
    previous = "header"
    for kind, code in blocks:
        if previous == "header":
            gap = "\n"
        elif kind in ("function", "class") or previous in ("function", "class") or (previous == "import") != (kind == "import"):
            gap = "\n\n"
        else:
            gap = ""
        text += gap + code
        previous = kind
    return text


def check_module(text: str) -> str | None:
    """None when `text` parses as Python (it is never run here), else the parser's message."""
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return f"line {exc.raw_line}: {exc.message}"
    return None
