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


#: `os.environ` as the file names it: the run-time read its keys and `.get()` are taken from.
_ENVIRON: Final = "os.environ"
#: Methods of `os.environ` that read one variable by name (and return its value or the default).
_ENVIRON_GETTERS: Final = frozenset({"get", "setdefault"})


@dataclass(frozen=True, slots=True)
class _EnvironGet:
    """`os.environ.get` (or `.setdefault`): a call reads the variable its first argument names."""

    fallback: Unresolved
    method: str


def _is_environ(value: object) -> bool:
    """`os.environ` (a run-time read) or `environ` imported from os."""
    if isinstance(value, Unresolved):
        return value.source == _ENVIRON
    return isinstance(value, Symbol) and value.qualname == _ENVIRON


class RuntimeLibrary(BaseLibrary):
    """Calls and attributes that read the environment, Airflow's metadata or files at run time."""

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if isinstance(func, _EnvironGet):
            return self._environment(call, node, func.fallback, f"os.environ.{func.method}({{}})")
        if not isinstance(func, Symbol):
            return NotImplemented
        qual = func.qualname
        role = role_of(qual)
        span = self.interpreter.span(node)
        if role is Role.VARIABLE:
            self._record("variable", "", span)
            return runtime_read("Variable", span)
        if role is Role.OS_ENVIRON:
            return self._environment(call, node, runtime_read(f"{qual}()", span), f"{qual}({{}})")
        if role is not None:
            return NotImplemented
        if qual in _ENVIRONMENT_READS or qual.startswith(RUNTIME_PREFIXES):
            if ".Connection" in qual or qual.endswith(".get_connection"):
                return self._connection(qual, call, span)
            return runtime_read(f"{qual}()", span)
        if qual.endswith(".get") and role_of(qual[: -len(".get")]) is Role.VARIABLE:
            return self._variable(call, node, runtime_read("Variable.get()", span))
        if qual.endswith(".get_connection") or ".Connection" in qual:
            return self._connection(qual, call, span)
        if ".hooks." in qual and qual.endswith("Hook"):
            # `S3Hook(aws_conn_id="x")`: the hook reads connection "x" when it runs; the call itself
            # is left to the other libraries.
            for keyword, value in call.keywords.items():
                if keyword.endswith("conn_id") and isinstance(value, str):
                    self._record("connection", value, span)
        return NotImplemented

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, Symbol) and name == "environ" and base.qualname == "os":
            return runtime_read(_ENVIRON, self.interpreter.span(node))
        if _is_environ(base) and name in _ENVIRON_GETTERS:
            return _EnvironGet(self._environ_read(base, node), name)
        return NotImplemented

    def subscript(self, base: object, key: object, node: cst.CSTNode) -> object:
        if not _is_environ(base):
            return NotImplemented
        # `os.environ[name]`: the variable is named (and frozen, if the user gave its value).
        return self._frozen("environment", key, self.interpreter.run_values.env, node, self._environ_read(base, node),
                            "os.environ[{}]")

    def contains(self, item: object, container: object, node: cst.CSTNode) -> object:
        if not _is_environ(container):
            return NotImplemented
        span = self.interpreter.span(node)
        name = item if isinstance(item, str) else ""
        self._record("environment", name, span)
        if name and self.interpreter.run_values.env(name) is not None:
            # The user froze its value, so it is set.
            self.interpreter.report(codes.make(codes.FROZEN_RUN_TIME_VALUE, span, what=f"environment variable {name!r}",
                                               value="set"))
            return True
        return self._environ_read(container, node)

    def _connection(self, qual: str, call: CallArgs, span: Span) -> Unresolved:
        """`BaseHook.get_connection("warehouse")`: a connection read when the file runs, named."""
        name = _first_text(call)
        self._record("connection", name, span)
        return runtime_read(f"{qual}({name!r})" if name else f"{qual}()", span)

    def _environ_read(self, base: object, node: cst.CSTNode) -> Unresolved:
        return base if isinstance(base, Unresolved) else runtime_read(_ENVIRON, self.interpreter.span(node))

    # -- frozen values ------------------------------------------------------------------------------

    def _environment(self, call: CallArgs, node: cst.CSTNode, fallback: Unresolved, form: str) -> object:
        key = call.positional[0] if call.positional else call.keywords.get("key")
        return self._frozen("environment", key, self.interpreter.run_values.env, node, fallback, form)

    def _variable(self, call: CallArgs, node: cst.CSTNode, fallback: Unresolved) -> object:
        key = call.positional[0] if call.positional else call.keywords.get("key")
        if set(call.keywords) - _VARIABLE_KEYWORDS or call.keywords.get("deserialize_json"):
            name = key if isinstance(key, str) else ""
            self._record("variable", name, self.interpreter.span(node))
            # A JSON Variable: its frozen text would need parsing, keep it a run-time read.
            return _named(fallback, "Variable.get({})", name)
        return self._frozen("variable", key, self.interpreter.run_values.variable, node, fallback, "Variable.get({})")

    def _frozen(self, kind: str, key: object, lookup: object, node: cst.CSTNode, fallback: Unresolved,
                form: str) -> object:
        """The value the user froze for the variable `key` names, else the run-time read, named
        the way the source reads it (`form` with the name's repr, e.g. "os.environ[{}]")."""
        span = self.interpreter.span(node)
        name = key if isinstance(key, str) else ""
        self._record(kind, name, span)
        value = lookup(name) if name else None  # type: ignore[operator]
        if value is None:
            return _named(fallback, form, name)
        what = f"Variable {name!r}" if kind == "variable" else f"environment variable {name!r}"
        self.interpreter.report(codes.make(codes.FROZEN_RUN_TIME_VALUE, span, what=what, value=repr(value)))
        return value

    def _record(self, kind: str, name: str, span: Span) -> None:
        self.interpreter.run_reads.append(RunRead(kind, name, span))


def _named(fallback: Unresolved, form: str, name: str) -> Unresolved:
    """The run-time read `fallback`, its source naming the variable read (`os.environ['STAGE']`)."""
    if not name:
        return fallback
    return runtime_read(form.format(repr(name)), fallback.span)


def _first_text(call: CallArgs) -> str:
    first = call.positional[0] if call.positional else call.keywords.get("conn_id")
    return first if isinstance(first, str) else ""


__all__ = ["RuntimeLibrary"]
