"""Reads of the outside world when a DAG file runs: os.environ, Variable, Connection, open, hooks.

None of them has a value before the file runs on the target; each becomes
`Unresolved(source=...)`, which the DAG refuses with DC-runtime-value where it matters."""

from __future__ import annotations

from typing import Final

import libcst as cst

from dag_converter.analyzer.imports import RUNTIME_PREFIXES, Role, Symbol, role_of
from dag_converter.analyzer.interpreter import BaseLibrary
from dag_converter.analyzer.values import CallArgs, runtime_read

_ENVIRONMENT_READS: Final = frozenset({"os.getenv", "os.environ.get", "open"})


class RuntimeLibrary(BaseLibrary):
    """Calls and attributes that read the environment, Airflow's metadata or files at run time."""

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if not isinstance(func, Symbol):
            return NotImplemented
        qual = func.qualname
        role = role_of(qual)
        span = self.interpreter.span(node)
        if role is Role.VARIABLE:
            return runtime_read("Variable", span)
        if role is Role.OS_ENVIRON:
            return runtime_read(f"{qual}()", span)
        if role is not None:
            return NotImplemented
        if qual in _ENVIRONMENT_READS or qual.startswith(RUNTIME_PREFIXES):
            return runtime_read(f"{qual}()", span)
        if qual.endswith(".get") and role_of(qual[: -len(".get")]) is Role.VARIABLE:
            return runtime_read("Variable.get()", span)
        if qual.endswith(".get_connection") or ".Connection" in qual:
            return runtime_read(f"{qual}()", span)
        return NotImplemented

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, Symbol) and name == "environ" and base.qualname == "os":
            return runtime_read("os.environ", self.interpreter.span(node))
        return NotImplemented


__all__ = ["RuntimeLibrary"]
