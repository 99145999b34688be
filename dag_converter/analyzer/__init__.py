"""The libcst front end: Python DAG source -> model.Workflow list, without importing the file.

`analyze_module` parses a file, runs it on the abstract interpreter (interpreter.py) with the
standard libraries (libraries/), and collects its DAGs (dags.py). Layers, top to bottom:
this face -> libraries/* -> dags -> interpreter -> builtins -> values -> imports, positions, _screen, _folder.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import libcst as cst

from dag_converter import codes
from dag_converter.analyzer._folder import DagFolder, FolderReader, LocalFolder, display_root_of
from dag_converter.analyzer._plugins import MAX_ARCHIVE_BYTES as PLUGINS_MAX_BYTES
from dag_converter.analyzer._plugins import PLUGINS_PREFIX, LayeredFolder, PluginsArchive, PluginsUnusable
from dag_converter.analyzer._screen import nesting_problem
from dag_converter.analyzer.dags import discover
from dag_converter.analyzer.imports import dotted_name
from dag_converter.analyzer.interpreter import FolderImports, Interpreter
from dag_converter.analyzer.libraries import AirflowLibrary, standard_libraries
from dag_converter.analyzer.libraries.time import environment_today
from dag_converter.analyzer.positions import StartPositions
from dag_converter.analyzer.values import DEFAULT_LIMITS, Limits, RunValues
from dag_converter.model import ModuleAnalysis, RuntimeRead, Span, Workflow

_PARSER_PLACE: Final = re.compile(r"error at (\d+):(\d+):\s*")


def module_name_for(path: str) -> str:
    """The module name a DAG file is imported as: its file name without `.py`."""
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    return stem[:-3] if stem.endswith(".py") else stem


def analyze_module(source: str, path: str, *, package: str = "", today: _dt.date | None = None,
                   root: Path | FolderReader | None = None, limits: Limits = DEFAULT_LIMITS, file: str | None = None,
                   run_values: RunValues | None = None, inline_templates: bool = True) -> ModuleAnalysis:
    """Find the workflows of one DAG file's source text. Never imports or runs it.

    `package` is the file's folder relative to the DAG folder, dotted; `root` is the DAG folder
    itself: modules the file imports from it are read and interpreted (never imported). `limits`
    bounds the work and memory the file may take and what it may produce (values.Limits).
    `file` is the file's path below the DAG folder root, '/'-separated: its `__file__` as the
    analysis sees it (default: the package folders and the file name). `run_values` are the
    Variables and environment variables the user chose to freeze (--var, --env). `inline_templates`
    puts the text of template files in the templated arguments that name them (libraries/templates.py);
    off when a code package ships the files instead.
    """
    if file is None:
        file = "/".join([*package.split("."), path.replace("\\", "/").rsplit("/", 1)[-1]] if package
                        else [path.replace("\\", "/").rsplit("/", 1)[-1]])
    too_complex = nesting_problem(source)
    if too_complex is not None:
        return ModuleAnalysis(path, (), (codes.make(codes.INPUT_TOO_COMPLEX, Span(path, too_complex[0], 1),
                                                    detail=too_complex[1]),))
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        detail = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
        # libcst's native parser puts the precise place in the message ("error at 2:20: ...",
        # 0-based column); its raw_line can point past it.
        where = _PARSER_PLACE.search(detail)
        line, column = (int(where.group(1)), int(where.group(2)) + 1) if where else (exc.raw_line, exc.raw_column + 1)
        detail = _PARSER_PLACE.sub("", detail).replace("parser error: ", "").strip() or "invalid syntax"
        return ModuleAnalysis(path, (), (codes.make(codes.SYNTAX_ERROR, Span(path, line, column), detail=detail),))
    except cst.CSTValidationError as exc:
        # The parser accepted a token its node classes then reject, e.g. an identifier in a
        # script newer than this Python's Unicode database (found by tests/robustness/test_fuzz.py).
        return ModuleAnalysis(path, (), (codes.make(codes.SYNTAX_ERROR, Span(path), detail=str(exc)),))
    except RecursionError:
        return ModuleAnalysis(path, (), (codes.make(codes.INPUT_TOO_COMPLEX, Span(path),
                                                    detail="source nested too deeply to parse"),))
    try:
        return _interpret(module, source, path, package, today or environment_today(), root, limits, file,
                          run_values or RunValues(), inline_templates)
    except RecursionError:
        return ModuleAnalysis(path, (), (codes.make(codes.INPUT_TOO_COMPLEX, Span(path),
                                                    detail="expression nested too deeply to analyse"),))


def _interpret(module: cst.Module, source: str, path: str, package: str, today: _dt.date,
               root: Path | FolderReader | None,
               limits: Limits, file: str, run_values: RunValues, inline_templates: bool) -> ModuleAnalysis:
    positions = StartPositions(module, source)
    name = module_name_for(path)
    reader = LocalFolder(root) if isinstance(root, Path) else root
    # Data and template files are opened by path (open(), Jinja's loader): only the DAG folder has them,
    # never the plugins archive behind it, which only imports reach.
    files = reader.dag_folder if isinstance(reader, LayeredFolder) else reader
    imports = FolderImports(DagFolder(reader, display_root_of(path, package), files)) if reader is not None else None
    interpreter = Interpreter(path, module, positions, module_name=name, package=package, today=today,
                              libraries=standard_libraries, limits=limits, imports=imports, file=file,
                              run_values=run_values, inline_templates=inline_templates)
    if imports is not None:
        # A helper module importing this file back sees the names bound so far, as in Python.
        imports.scopes[f"{package}.{name}" if package else name] = interpreter.module_scope
    stopped = interpreter.run_module()
    diagnostics = list(interpreter.file_diagnostics)
    if stopped is not None:
        diagnostics.append(codes.make(codes.INPUT_TOO_COMPLEX, stopped.span, detail=stopped.detail))
    diagnostics.extend(interpreter.notes)
    airflow = next(lib for lib in interpreter.libraries if isinstance(lib, AirflowLibrary))
    workflows = discover(interpreter, airflow.dags, stopped)
    file_reads = set(interpreter.run_reads)
    workflows = tuple(_with_reads(w, file_reads) for w in workflows)
    return ModuleAnalysis(path, workflows, tuple(diagnostics),
                          imports.folder.reads() if imports is not None else ())


def _with_reads(workflow: Workflow, file_reads: set[RuntimeRead]) -> Workflow:
    """The workflow with its inventory: what its file reads, and the connections its tasks name."""
    reads = file_reads | set(_connection_arguments(workflow))
    if not reads:
        return workflow
    ordered = sorted(reads, key=lambda r: (r.span.path, r.span.line, r.span.column, r.kind, r.name))
    return dataclasses.replace(workflow, reads=tuple(ordered))


def _connection_arguments(workflow: Workflow) -> Iterator[RuntimeRead]:
    """Connections named by `*_conn_id` arguments (`aws_conn_id="prod"`) of the DAG's tasks, its
    task groups and `default_args`: each task reads its connection when it runs."""
    arguments = [*workflow.arguments, *(a for g in workflow.groups for a in g.arguments),
                 *(a for t in workflow.tasks for a in t.arguments if a.inherited_from is None)]
    for arg in arguments:
        if arg.name.endswith("conn_id") and isinstance(arg.value, str):
            yield RuntimeRead("connection", arg.value, arg.span)
        elif arg.name == "default_args" and isinstance(arg.value, dict):
            for key, value in arg.value.items():
                if isinstance(key, str) and key.endswith("conn_id") and isinstance(value, str):
                    yield RuntimeRead("connection", value, arg.span)


def with_plugins(root: "Path | FolderReader | None", plugins: PluginsArchive | None) -> "Path | FolderReader | None":
    """The DAG folder `root` with the plugins archive behind it (a LayeredFolder), or `root` as it
    is when there is no archive."""
    if plugins is None:
        return root
    base = LocalFolder(root) if isinstance(root, Path) else root
    return LayeredFolder(base, plugins, root if isinstance(root, Path) else None)


__all__ = ["DEFAULT_LIMITS", "FolderReader", "LayeredFolder", "Limits", "LocalFolder", "PLUGINS_MAX_BYTES",
           "PLUGINS_PREFIX", "PluginsArchive", "PluginsUnusable", "RunValues", "analyze_module", "dotted_name",
           "environment_today", "module_name_for", "nesting_problem", "with_plugins"]
