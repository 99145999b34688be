"""The enums a provider defines, read from its source like its operators (nothing imported).

An operator argument may take an enum member (`EksClusterStateSensor(target_state=ClusterStates.ACTIVE)`).
For each `Enum` subclass in the provider package the builder records its members' values (string and
integer literals, and `auto()` in integer enums) and whether a member compares equal to its value as a
string: a `str` mix-in (`class DmsTaskState(str, Enum)`), `StrEnum`, or a base of the provider's that
defines `__eq__` (the Amazon provider's `_StringCompareEnum` compares the value with a `str`). Such a
member can be written as its value; any other is written as the member itself, which dag-factory builds
from `{__type__: <class path>, __args__: [<value>]}` (`Class(value)` returns the member).

Modules re-export enums (`sensors/eks.py` imports `ClusterStates` from `hooks/eks.py`); every parsed
module's imports of an enum are recorded as aliases, so a DAG importing the enum from either place
finds it.
"""

from __future__ import annotations

from typing import Any, Final

import libcst as cst

from dag_converter.registry._source import ClassInfo, SourceTree, dotted

#: The standard library's enum bases, and whether their members are strings.
_ENUM_ROOTS: Final = {"enum.Enum": False, "enum.IntEnum": False, "enum.Flag": False, "enum.IntFlag": False,
                      "enum.StrEnum": True}
_MAX_DEPTH: Final = 12


def provider_enums(tree: SourceTree, package: str) -> tuple[dict[str, Any], dict[str, str]]:
    """({class path: {"members": {name: value}, "string": bool}}, {alias path: class path}) for
    every enum defined under `package`, and every import of one in the modules parsed so far."""
    init = tree.find(package)
    enums: dict[str, Any] = {}
    if init is None:
        return enums, {}
    folder = init.parent
    for file in sorted(folder.rglob("*.py")):
        try:
            if "Enum" not in file.read_text(encoding="utf-8"):
                continue  # cheap screen: a module defining an enum names its base
        except (OSError, UnicodeDecodeError):
            continue
        parts = file.relative_to(folder).with_suffix("").parts
        module_name = ".".join([package, *(parts[:-1] if parts[-1] == "__init__" else parts)])
        try:
            info = tree.module(module_name)
        except cst.ParserSyntaxError:
            continue
        if info is None:
            continue
        for name, cls in sorted(info.classes.items()):
            kind = _enum_kind(tree, cls, 0)
            if kind is None:
                continue
            members = _members(cls, string=kind)
            if members:
                enums[cls.path] = {"members": members, "string": kind}
    return enums, _aliases(tree, enums)


def _enum_kind(tree: SourceTree, cls: ClassInfo, depth: int) -> bool | None:
    """None when `cls` is not an enum; else whether its members compare equal to string values."""
    if depth > _MAX_DEPTH:
        return None
    is_enum = False
    string = "__eq__" in cls.methods  # redefined equality (_StringCompareEnum: equal to its value as a str)
    module = tree.module(cls.module)
    for expr in cls.bases:
        name = dotted(expr)
        if name is None:
            continue
        if name == "str":
            string = True
            continue
        head, _, rest = name.partition(".")
        imported = [f"{c}.{rest}" if rest else c for c in (module.imports.get(head, ()) if module else ())]
        root = next((r for r in imported if r in _ENUM_ROOTS), None)
        if root is not None:
            is_enum = True
            string = string or _ENUM_ROOTS[root]
            continue
        resolved = tree.resolve_name(cls.module, name)
        base = tree.class_info(resolved) if resolved else None
        if base is not None and base.path != cls.path:
            kind = _enum_kind(tree, base, depth + 1)
            if kind is not None:
                is_enum = True
                string = string or kind
    return string if is_enum else None


def _members(cls: ClassInfo, *, string: bool) -> dict[str, str | int]:
    """The members whose values the source states: literals, and `auto()` in integer enums."""
    members: dict[str, str | int] = {}
    last: int | None = 0
    for name, value in cls.body_assigns:
        if name.startswith("_") or name in members:
            continue
        literal = _literal(value)
        if literal is None and not string and last is not None and _is_auto(value):
            literal = last + 1  # Enum._generate_next_value_: one more than the last integer value
        if literal is None:
            last = None
            continue
        members[name] = literal
        last = literal if isinstance(literal, int) else None
    return members


def _literal(node: cst.BaseExpression) -> str | int | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    return None


def _is_auto(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and not node.args and (dotted(node.func) or "").rsplit(".", 1)[-1] == "auto"


def _aliases(tree: SourceTree, enums: dict[str, Any]) -> dict[str, str]:
    """`module.Name` -> the enum's path, for every import of an enum in the parsed modules."""
    aliases: dict[str, str] = {}
    for info in tree.parsed():
        for local, candidates in info.imports.items():
            target = next((c for c in candidates if c in enums), None)
            if target is not None and f"{info.name}.{local}" != target:
                aliases[f"{info.name}.{local}"] = target
    return dict(sorted(aliases.items()))


__all__ = ["provider_enums"]
