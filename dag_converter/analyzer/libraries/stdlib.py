"""Standard-library names with no effect on a DAG: typing.cast, logging, functools decorators."""

from __future__ import annotations

from typing import Final

import libcst as cst

from dag_converter.analyzer.imports import Symbol
from dag_converter.analyzer.interpreter import BaseLibrary
from dag_converter.analyzer.values import CallArgs, Opaque, UserFunction

#: Decorators that leave the function as it is, for what the analyzer reads of it.
_TRANSPARENT_DECORATORS: Final = frozenset({"functools.wraps", "functools.cache", "functools.lru_cache", "staticmethod"})


class StdlibLibrary(BaseLibrary):
    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if not isinstance(func, Symbol):
            return NotImplemented
        if func.qualname == "typing.cast" and len(call.positional) == 2:
            return call.positional[1]  # typing.cast returns its value unchanged
        if func.qualname.startswith("logging."):
            return Opaque(func.qualname)
        return NotImplemented

    def decorate(self, decorator: object, function: UserFunction, node: cst.CSTNode) -> object:
        if isinstance(decorator, Symbol) and decorator.qualname in _TRANSPARENT_DECORATORS:
            return function
        return NotImplemented


__all__ = ["StdlibLibrary"]
