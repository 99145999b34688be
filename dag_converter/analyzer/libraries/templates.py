"""Template files: a templated argument whose value ends with one of the operator's `template_ext`
(`AthenaOperator(query="sql/daily.sql")`) is rendered by Airflow from that file, looked up by Jinja
relative to the DAG file's folder. The analysis reads the file (below the DAG folder root only,
size-limited, charged to the Meter) and puts its text in the value: Airflow renders the text the same
way, so the YAML task is equivalent without the file. A missing file is `Unresolved` (the task would
fail on the target).

When the target ships the DAG folder's files in a code package (Feature.CODE_PACKAGES), the pipeline
turns inlining off (`Interpreter.inline_templates`): the names stay, and codepackage/files.py ships
the files under them.
"""

from __future__ import annotations

import posixpath

import libcst as cst

from dag_converter.analyzer.interpreter import Interpreter
from dag_converter.model import Argument
from dag_converter.registry.template_files import TEMPLATE_FILES, included_templates


def inline_template_files(interpreter: Interpreter, operator: str, arguments: dict[str, Argument],
                          nodes: dict[str, cst.CSTNode], searchpath: object) -> None:
    """Replace, in `arguments`, each template file name with the file's text (see the module doc)."""
    rule = TEMPLATE_FILES.get(operator)
    if rule is None or not interpreter.inline_templates:
        return
    names, extensions = rule
    folder = posixpath.dirname(interpreter.file)
    for name in names & arguments.keys():
        argument = arguments[name]
        value = _inline(interpreter, argument.value, extensions, folder, nodes[name], searchpath)
        if value is not argument.value:
            arguments[name] = Argument(argument.name, value, argument.span, argument.inherited_from)


def _inline(interpreter: Interpreter, value: object, extensions: tuple[str, ...], folder: str,
            node: cst.CSTNode, searchpath: object) -> object:
    if isinstance(value, str):
        if not value.endswith(extensions):
            return value  # also bash's "script.sh " (a trailing space): a command, not a template
        return _read(interpreter, value, extensions, folder, node, searchpath)
    if isinstance(value, list):
        items = [_inline(interpreter, v, extensions, folder, node, searchpath) for v in value]
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, tuple):
        items = [_inline(interpreter, v, extensions, folder, node, searchpath) for v in value]
        return tuple(items) if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, dict):
        mapping = {k: _inline(interpreter, v, extensions, folder, node, searchpath) for k, v in value.items()}
        return mapping if any(mapping[k] is not v for k, v in value.items()) else value
    return value


def _read(interpreter: Interpreter, name: str, extensions: tuple[str, ...], folder: str, node: cst.CSTNode,
          searchpath: object) -> object:
    # Jinja's loader splits the name on '/', skips empty and '.' pieces and refuses '..'.
    pieces = [piece for piece in name.split("/") if piece and piece != "."]
    if ".." in pieces or not pieces:
        return interpreter.unresolved(node, f"template file {name!r}: Jinja refuses a name with '..'")
    if interpreter.imports is None:
        return interpreter.unresolved(node, f"template file {name!r}: no DAG folder is known to read it from")
    relative = posixpath.join(folder, *pieces)
    data = interpreter.imports.folder.read_data(relative, interpreter.limits.file_bytes)
    if isinstance(data, str):
        if searchpath not in (None, [], ()):
            return interpreter.unresolved(node, f"template file {name!r} is not beside the DAG file, and "
                                                "template_searchpath is not read")
        return interpreter.unresolved(node, f"template file: {data}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return interpreter.unresolved(node, f"template file {name!r} is not UTF-8 text ({exc.reason})")
    interpreter.meter.allocate(len(text), len(text) >> 8, node)
    if text.endswith(extensions):
        # Airflow would take the inlined text for a file name again: keep the file's name unknown.
        return interpreter.unresolved(node, f"template file {name!r} ends with a template extension itself")
    included = included_templates(text)
    if isinstance(included, str):
        return interpreter.unresolved(node, f"template file {name!r} is not a template Jinja can parse ({included}), "
                                            "so the files it includes are not known")
    if included:
        shown = ", ".join(repr(n) if n is not None else "a name computed when it renders" for n in included)
        return interpreter.unresolved(node, f"template file {name!r} includes {shown}: the service has no DAG "
                                            "folder to look it up in (convert with --code-package to ship them)")
    return text


__all__ = ["inline_template_files"]
