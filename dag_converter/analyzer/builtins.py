"""Builtins and the methods of str, dict, list and tuple, as name -> handler tables.

A builtin handler is `(interpreter, args, kwargs, node) -> value`; a method handler is
`(interpreter, target, args, kwargs, node) -> value`. Handlers compute exactly or return
Unresolved; they charge the interpreter's Meter for what they visit and build.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

import libcst as cst

from dag_converter.analyzer.values import DictView, Opaque, PathValue, Unresolved, absorbing, first_unresolved
from dag_converter.model import DateTime

if TYPE_CHECKING:  # pragma: no cover - the interpreter imports this module
    from dag_converter.analyzer.interpreter import Interpreter

BuiltinHandler = Callable[["Interpreter", list[object], dict[str, object], cst.CSTNode], object]
MethodHandler = Callable[["Interpreter", object, list[object], dict[str, object], cst.CSTNode], object]

_SPEC_NUMBER: Final = re.compile(r"\d+")


# ---------------------------------------------------------------------------------------------
# Helpers shared with the interpreter


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
_SEQUENCES: Final = frozenset({list, tuple, set, frozenset})


def plain(value: object, known: set[int] | None = None) -> bool:
    """A literal value Python's own operators may be applied to safely. Each distinct container
    is checked once (`known`), so shared references cost what building them cost."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind not in _SEQUENCES and kind is not dict:
        return False
    if known is None:
        known = set()
    elif id(value) in known:
        return True
    known.add(id(value))
    items = [*value.keys(), *value.values()] if kind is dict else value  # type: ignore[attr-defined]
    types = set(map(type, items))  # type: ignore[call-overload]
    if types <= _SCALARS:
        return True
    return all(plain(v, known) for v in items)  # type: ignore[union-attr]


def hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def narrow_spec(spec: str, limit: int, widths: Sequence[object] = ()) -> bool:
    """True when no number in a format spec, and no int given as a width, exceeds `limit`."""
    numbers = [int(n) for n in _SPEC_NUMBER.findall(spec)]
    numbers += [w for w in widths if isinstance(w, int)]
    return all(n <= limit for n in numbers)


# ---------------------------------------------------------------------------------------------
# Builtin functions


def _range(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
    if not all(isinstance(a, int) for a in args):
        return interp.unresolved(node, "range() of non-integers")
    size = len(range(*args))  # type: ignore[arg-type]
    interp.meter.before_building(size, "range()", node)
    return interp.meter.built(list(range(*args)), node)  # type: ignore[arg-type]


def _iterables(interp: Interpreter, args: list[object], node: cst.CSTNode) -> list[list[object]] | Unresolved:
    lists = [interp.iterate(a, node) for a in args]
    bad = first_unresolved(lists)
    return bad if bad is not None else lists  # type: ignore[return-value]


def _collection(build: Callable[[Interpreter, list[object], dict[str, object], cst.CSTNode, list[list[object]]], object]
                ) -> BuiltinHandler:
    """A builtin over iterables: its arguments listed first, then `build(..., lists)`."""

    def handler(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
        lists = _iterables(interp, args, node)
        if isinstance(lists, Unresolved):
            return lists
        return build(interp, args, kwargs, node, lists)

    return handler


def _sorted(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode,
            lists: list[list[object]]) -> object:
    if "key" in kwargs:
        return interp.unresolved(node, "sorted() with a key function")
    interp.meter.visit(lists[0], "sorted()", node)
    if not all(plain(v) for v in lists[0]):
        return interp.unresolved(node, "sorted() of non-literal values")
    return sorted(lists[0], reverse=bool(kwargs.get("reverse", False)))  # type: ignore[type-var]


def _enumerate(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode,
               lists: list[list[object]]) -> object:
    start = kwargs.get("start", args[1] if len(args) > 1 else 0)
    return [(i, v) for i, v in enumerate(lists[0], start)]  # type: ignore[call-overload]


def _reduce(name: str) -> Callable[..., object]:
    function: Callable[..., object] = {"min": min, "max": max, "sum": sum, "any": any, "all": all}[name]

    def build(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode,
              lists: list[list[object]]) -> object:
        for lst in lists:
            interp.meter.visit(lst, f"{name}()", node)
        if not all(plain(v) for lst in lists for v in lst):
            return interp.unresolved(node, f"{name}() of non-literal values")
        if name in ("min", "max") and len(args) > 1:
            return function(args)
        return function(lists[0])

    return build


def _extremum(name: str) -> BuiltinHandler:
    """min()/max(): of one iterable, or of two or more values (those are not iterated)."""
    of_iterable = _collection(_reduce(name))
    of_values = _reduce(name)

    def handler(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
        if len(args) > 1 and not kwargs:
            return of_values(interp, args, kwargs, node, [args])
        return of_iterable(interp, args, kwargs, node)

    return handler


def _len(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
    if isinstance(args[0], (str, list, tuple, dict, set)):
        return len(args[0])
    return interp.unresolved(node, f"len() of a {type(args[0]).__name__}")


def _dict(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
    result: dict[object, object] = {}
    if args:
        source = args[0]
        if isinstance(source, dict):
            result.update(source)
            interp.open_dicts.copy_to(source, result)
        else:
            items = interp.iterate(source, node)
            if isinstance(items, Unresolved):
                return items
            for item in items:
                if not (isinstance(item, (tuple, list)) and len(item) == 2 and hashable(item[0])):
                    return interp.unresolved(node, "dict() of items that are not pairs")
                result[item[0]] = item[1]
    result.update(kwargs)
    return result


def _convert(name: str) -> BuiltinHandler:
    function: Callable[..., object] = {"str": str, "int": int, "float": float, "bool": bool, "abs": abs,
                                       "round": round}[name]

    def handler(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
        for arg in args:
            interp.meter.visit(arg, f"{name}()", node)
        if not all(plain(a) for a in args):
            if name == "str" and args and isinstance(args[0], DateTime) and args[0].tz in (None, "UTC"):
                return str(args[0].value)
            if name == "str" and len(args) == 1 and isinstance(args[0], PathValue):
                return args[0].path
            if name == "str" and len(args) == 1 and not kwargs:
                text = interp.text_of(args[0], node)
                if text is not NotImplemented:
                    return text
            return interp.unresolved(node, f"{name}() of a non-literal value")
        return function(*args)

    return handler


def _globals(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
    return interp.module_scope.values


def _print(interp: Interpreter, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
    return Opaque("print")


#: Builtins that compute a value; their Unresolved arguments are returned unchanged.
BUILTINS: Final[dict[str, BuiltinHandler]] = {
    "range": absorbing(_range),
    "list": absorbing(_collection(lambda i, a, k, n, lists: list(lists[0]) if lists else [])),
    "tuple": absorbing(_collection(lambda i, a, k, n, lists: tuple(lists[0]) if lists else ())),
    "set": absorbing(_collection(lambda i, a, k, n, lists: i.make_set(list(lists[0]) if lists else [], n))),
    "frozenset": absorbing(_collection(lambda i, a, k, n, lists: i.make_set(list(lists[0]) if lists else [], n))),
    "sorted": absorbing(_collection(_sorted)),
    "reversed": absorbing(_collection(lambda i, a, k, n, lists: list(reversed(lists[0])))),
    "enumerate": absorbing(_collection(_enumerate)),
    "zip": absorbing(_collection(lambda i, a, k, n, lists: [tuple(t) for t in zip(*lists)])),
    **{name: absorbing(_collection(_reduce(name))) for name in ("sum", "any", "all")},
    **{name: absorbing(_extremum(name)) for name in ("min", "max")},
    "len": absorbing(_len),
    "dict": absorbing(_dict),
    **{name: absorbing(_convert(name)) for name in ("str", "int", "float", "bool", "abs", "round")},
}

#: Builtins whose name resolves only when the file does not bind it itself (`globals`, `print`).
MODULE_BUILTINS: Final[dict[str, BuiltinHandler]] = {"globals": _globals, "print": _print}


# ---------------------------------------------------------------------------------------------
# Methods of str


def _str_format(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                node: cst.CSTNode) -> object:
    assert isinstance(target, str)
    values = [*args, *kwargs.values()]
    for value in values:
        interp.meter.visit(value, ".format()", node)
    if not all(plain(v) for v in values):
        return interp.unresolved(node, ".format() with non-literal values")
    try:
        specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(target)]
    except ValueError as exc:
        return interp.unresolved(node, f".format(): {exc}")
    limit = interp.limits.format_width
    if not narrow_spec(" ".join(specs), limit, values if "{" in "".join(specs) else ()):
        return interp.unresolved(node, f".format() wider than {limit}")
    try:
        return target.format(*args, **kwargs)
    except (IndexError, KeyError, ValueError) as exc:
        return interp.unresolved(node, f".format(): {exc}")


def _str_join(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
              node: cst.CSTNode) -> object:
    assert isinstance(target, str)
    items = interp.iterate(args[0], node) if args else None
    if isinstance(items, Unresolved):
        return items
    if items is None or not all(isinstance(i, str) for i in items):
        return interp.unresolved(node, "join() of non-strings")
    interp.meter.before_building(sum(map(len, items)) + len(target) * len(items), "join()", node)  # type: ignore[arg-type]
    return target.join(items)  # type: ignore[arg-type]


_FILL_METHODS: Final = frozenset({"zfill", "center", "ljust", "rjust"})
_STR_METHODS: Final = frozenset({
    "replace", "upper", "lower", "split", "rsplit", "strip", "lstrip", "rstrip", "startswith",
    "endswith", "title", "capitalize", "zfill", "removeprefix", "removesuffix", "splitlines", "casefold",
    "swapcase", "center", "ljust", "rjust", "find", "rfind", "count", "isdigit", "isalpha", "isalnum",
    "encode",  # bytes: known, and refused where YAML cannot hold them (decode to text)
})


def _str_method(name: str) -> MethodHandler:
    def handler(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                node: cst.CSTNode) -> object:
        assert isinstance(target, str)
        for value in (*args, *kwargs.values()):
            interp.meter.visit(value, f"str.{name}()", node)
        if not all(plain(v) for v in [*args, *kwargs.values()]):
            return interp.unresolved(node, f"str.{name}() with non-literal arguments")
        limit = interp.limits.format_width
        if name in _FILL_METHODS and not narrow_spec("", limit, args):
            return interp.unresolved(node, f"str.{name}() wider than {limit}")
        if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            interp.meter.before_building((target.count(args[0]) + 1) * len(args[1]) + len(target), "replace()", node)
        if len(target) > 4096:
            interp.meter.tick(node, len(target) >> 8)
        try:
            return getattr(target, name)(*args, **kwargs)
        except (TypeError, ValueError, OverflowError, LookupError) as exc:  # LookupError: an unknown codec
            return interp.unresolved(node, f"str.{name}(): {exc}")

    return handler


# ---------------------------------------------------------------------------------------------
# Methods of dict, list and tuple


def _dict_copy(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
               node: cst.CSTNode) -> object:
    assert isinstance(target, dict)
    if args:
        return NotImplemented
    result = dict(target)
    interp.open_dicts.copy_to(target, result)
    return result


def _dict_get(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
              node: cst.CSTNode) -> object:
    assert isinstance(target, dict)
    if not args or not hashable(args[0]):
        return NotImplemented
    return target.get(args[0], args[1] if len(args) > 1 else None)


def _dict_update(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                 node: cst.CSTNode) -> object:
    assert isinstance(target, dict)
    for arg in args:
        if isinstance(arg, Unresolved):
            interp.open_dicts.mark(target, arg)
        elif isinstance(arg, dict):
            target.update(arg)
            interp.open_dicts.copy_to(arg, target)
        else:
            return interp.unresolved(node, "dict.update() with a non-dict")
    target.update(kwargs)
    interp.meter.built(target, node)
    return None


def _view(kind: str) -> MethodHandler:
    def handler(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                node: cst.CSTNode) -> object:
        assert isinstance(target, dict)
        return DictView(target, kind)

    return handler


def _dict_pop(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
              node: cst.CSTNode) -> object:
    assert isinstance(target, dict)
    if not args or not hashable(args[0]):
        return NotImplemented
    if args[0] in target:
        return target.pop(args[0])
    return args[1] if len(args) > 1 else interp.unresolved(node, f"key {args[0]!r} not in dict")


def _dict_setdefault(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                     node: cst.CSTNode) -> object:
    assert isinstance(target, dict)
    if not args or not hashable(args[0]):
        return NotImplemented
    return target.setdefault(args[0], args[1] if len(args) > 1 else None)


def _list_append(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                 node: cst.CSTNode) -> object:
    assert isinstance(target, list)
    if len(args) != 1:
        return NotImplemented
    target.append(args[0])
    if len(target) > interp.limits.value_size:
        interp.meter.built(target, node)
    return None


def _list_extend(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                 node: cst.CSTNode) -> object:
    assert isinstance(target, list)
    if len(args) != 1:
        return NotImplemented
    items = interp.iterate(args[0], node)
    if isinstance(items, Unresolved):
        target.append(items)
        return None
    interp.meter.before_building(len(target) + len(items), "extend()", node)
    target.extend(items)
    interp.meter.built(target, node)
    return None


def _list_insert(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                 node: cst.CSTNode) -> object:
    assert isinstance(target, list)
    if len(args) != 2 or not isinstance(args[0], int):
        return NotImplemented
    target.insert(args[0], args[1])
    return None


def _list_copy(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
               node: cst.CSTNode) -> object:
    assert isinstance(target, list)
    if args:
        return NotImplemented
    return interp.meter.built(list(target), node)


def _search(name: str, literal_only: bool) -> MethodHandler:
    def handler(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                node: cst.CSTNode) -> object:
        assert isinstance(target, (list, tuple))
        if len(args) != 1 or (literal_only and not plain(args[0])):
            return NotImplemented
        interp.meter.visit(target, f"{name}()", node)
        try:
            return getattr(target, name)(args[0])
        except ValueError as exc:
            return interp.unresolved(node, str(exc))

    return handler


def _tuple_search(name: str) -> MethodHandler:
    return _search(name, literal_only=False)


#: (type, method name) -> handler. A handler returns NotImplemented for arguments it does not take.
def _bytes_decode(interp: Interpreter, target: object, args: list[object], kwargs: dict[str, object],
                  node: cst.CSTNode) -> object:
    encoding = args[0] if args else kwargs.get("encoding", "utf-8")
    errors = args[1] if len(args) > 1 else kwargs.get("errors", "strict")
    if not isinstance(encoding, str) or not isinstance(errors, str) or len(args) > 2 \
            or set(kwargs) - {"encoding", "errors"}:
        return interp.unresolved(node, "bytes.decode() with arguments that are not strings")
    try:
        return target.decode(encoding, errors)  # type: ignore[attr-defined]
    except (LookupError, UnicodeDecodeError) as exc:
        return interp.unresolved(node, f"bytes.decode(): {exc}")


METHODS: Final[dict[tuple[type, str], MethodHandler]] = {
    (bytes, "decode"): _bytes_decode,
    (str, "format"): _str_format,
    (str, "join"): _str_join,
    **{(str, name): _str_method(name) for name in _STR_METHODS},
    (dict, "copy"): _dict_copy,
    (dict, "get"): _dict_get,
    (dict, "update"): _dict_update,
    (dict, "keys"): _view("keys"),
    (dict, "values"): _view("values"),
    (dict, "items"): _view("items"),
    (dict, "pop"): _dict_pop,
    (dict, "setdefault"): _dict_setdefault,
    (list, "append"): _list_append,
    (list, "extend"): _list_extend,
    (list, "insert"): _list_insert,
    (list, "copy"): _list_copy,
    # A list's index/count takes literal arguments; a tuple's any (as before the tables).
    (list, "index"): _search("index", literal_only=False),
    (list, "count"): _search("count", literal_only=False),
    (tuple, "index"): _tuple_search("index"),
    (tuple, "count"): _tuple_search("count"),
}

#: Methods whose Unresolved arguments are returned unchanged (the others take unknown values in).
ABSORBING_METHODS: Final = frozenset({(str, "format"), (str, "join"), *((str, n) for n in _STR_METHODS)})


def call_method(interp: Interpreter, target: object, name: str, args: list[object], kwargs: dict[str, object],
                node: cst.CSTNode) -> object:
    """`target.name(*args, **kwargs)` for a str, dict, list or tuple."""
    key = (type(target), name)
    handler = METHODS.get(key)
    if handler is not None:
        if key in ABSORBING_METHODS:
            bad = first_unresolved(args) or first_unresolved(kwargs.values())
            if bad is not None:
                return bad
        result = handler(interp, target, args, kwargs, node)
        if result is not NotImplemented:
            return result
    return interp.unresolved(node, f"method {name}() of a {type(target).__name__}")


__all__ = ["ABSORBING_METHODS", "BUILTINS", "METHODS", "MODULE_BUILTINS", "call_method", "hashable",
           "narrow_spec", "plain"]
