"""Reads of the outside world when a DAG file runs: os.environ, Variable, Connection, open, hooks.

None of them has a value before the file runs on the target; each becomes
`Unresolved(source=...)`, which the DAG refuses with DC-runtime-value where it matters, unless
the user froze a value for it (--var, --env: `RunValues`), which is then used and reported
(DC-frozen-run-time-value). Every read of a Variable, an environment variable or a connection is
listed in `Interpreter.run_reads`, with its name when it is known: the file's inventory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import libcst as cst

from dag_converter import codes
from dag_converter.analyzer.imports import RUNTIME_PREFIXES, Role, Symbol, role_of
from dag_converter.analyzer.interpreter import BaseLibrary
from dag_converter.analyzer.values import CallArgs, RunRead, Unresolved, runtime_read
from dag_converter.model import Span

_ENVIRONMENT_READS: Final = frozenset({"os.getenv", "os.environ.get", "open"})
_VARIABLE_KEYWORDS: Final = frozenset({"key", "default_var", "default", "deserialize_json"})


@dataclass(frozen=True, slots=True)
class _Environ:
    """`os.environ` when the user gave environment values: read by key, else a run-time read."""

    fallback: Unresolved


@dataclass(frozen=True, slots=True)
class _EnvironGet:
    fallback: Unresolved


class RuntimeLibrary(BaseLibrary):
    """Calls and attributes that read the environment, Airflow's metadata or files at run time."""

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if isinstance(func, _EnvironGet):
            return self._environment(call, node, func.fallback)
        if not isinstance(func, Symbol):
            return NotImplemented
        qual = func.qualname
        role = role_of(qual)
        span = self.interpreter.span(node)
        if role is Role.VARIABLE:
            self._record("variable", "", span)
            return runtime_read("Variable", span)
        if role is Role.OS_ENVIRON:
            return self._environment(call, node, runtime_read(f"{qual}()", span))
        if role is not None:
            return NotImplemented
        if qual in _ENVIRONMENT_READS or qual.startswith(RUNTIME_PREFIXES):
            if ".Connection" in qual or qual.endswith(".get_connection"):
                self._record("connection", _first_text(call), span)
            return runtime_read(f"{qual}()", span)
        if qual.endswith(".get") and role_of(qual[: -len(".get")]) is Role.VARIABLE:
            return self._variable(call, node, runtime_read("Variable.get()", span))
        if qual.endswith(".get_connection") or ".Connection" in qual:
            self._record("connection", _first_text(call), span)
            return runtime_read(f"{qual}()", span)
        return NotImplemented

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, Symbol) and name == "environ" and base.qualname == "os":
            fallback = runtime_read("os.environ", self.interpreter.span(node))
            return _Environ(fallback) if self.interpreter.run_values.environment else fallback
        if isinstance(base, _Environ):
            return _EnvironGet(base.fallback) if name == "get" else base.fallback
        return NotImplemented

    def subscript(self, base: object, key: object, node: cst.CSTNode) -> object:
        if not isinstance(base, _Environ):
            return NotImplemented
        return self._frozen("environment", key, self.interpreter.run_values.env, node, base.fallback)

    # -- frozen values ------------------------------------------------------------------------------

    def _environment(self, call: CallArgs, node: cst.CSTNode, fallback: Unresolved) -> object:
        key = call.positional[0] if call.positional else call.keywords.get("key")
        return self._frozen("environment", key, self.interpreter.run_values.env, node, fallback)

    def _variable(self, call: CallArgs, node: cst.CSTNode, fallback: Unresolved) -> object:
        key = call.positional[0] if call.positional else call.keywords.get("key")
        if set(call.keywords) - _VARIABLE_KEYWORDS or call.keywords.get("deserialize_json"):
            self._record("variable", key if isinstance(key, str) else "", self.interpreter.span(node))
            return fallback  # a JSON Variable: its frozen text would need parsing, keep it a run-time read
        return self._frozen("variable", key, self.interpreter.run_values.variable, node, fallback)

    def _frozen(self, kind: str, key: object, lookup: object, node: cst.CSTNode, fallback: Unresolved) -> object:
        span = self.interpreter.span(node)
        name = key if isinstance(key, str) else ""
        self._record(kind, name, span)
        value = lookup(name) if name else None  # type: ignore[operator]
        if value is None:
            return fallback
        what = f"Variable {name!r}" if kind == "variable" else f"environment variable {name!r}"
        self.interpreter.report(codes.make(codes.FROZEN_RUN_TIME_VALUE, span, what=what, value=repr(value)))
        return value

    def _record(self, kind: str, name: str, span: Span) -> None:
        self.interpreter.run_reads.append(RunRead(kind, name, span))


def _first_text(call: CallArgs) -> str:
    first = call.positional[0] if call.positional else call.keywords.get("conn_id")
    return first if isinstance(first, str) else ""


__all__ = ["RuntimeLibrary"]
