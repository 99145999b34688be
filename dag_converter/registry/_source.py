"""Static model of installed Python modules, read with libcst: classes, imports, constants.

Only the registry builder uses this. Nothing here imports Airflow or a provider: module files are
found on ``sys.path`` by name and parsed, so reading a provider can never run its code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

#: Where the two roots of every operator live in the Airflow 3 task SDK (TARGET.md [SDK]).
BASE_OPERATOR: str = "airflow.sdk.bases.operator.BaseOperator"
BASE_SENSOR: str = "airflow.sdk.bases.sensor.BaseSensorOperator"
ROOTS: frozenset[str] = frozenset({BASE_OPERATOR, BASE_SENSOR})


@dataclass(frozen=True, slots=True)
class InitParam:
    name: str
    has_default: bool


@dataclass(frozen=True, slots=True)
class InitInfo:
    """What a class's ``__init__`` accepts and what it hands to its base."""

    params: tuple[InitParam, ...]  #: keyword-capable parameters, ``self`` excluded
    var_kwargs: bool  #: has ``**kwargs``, so unknown keywords travel up the MRO
    passed_up: frozenset[str]  #: keywords given explicitly in the ``super().__init__`` call
    read_from_kwargs: frozenset[str]  #: ``kwargs.pop("x")``/``kwargs.get("x")``/``kwargs["x"]``


@dataclass(frozen=True, slots=True)
class ClassInfo:
    module: str
    name: str
    bases: tuple[cst.BaseExpression, ...]
    init: InitInfo | None  #: None when the class defines no ``__init__``
    body_assigns: tuple[tuple[str, cst.BaseExpression], ...]  #: class-level ``name = value``
    methods: frozenset[str] = frozenset()  #: names of the functions the class body defines

    @property
    def path(self) -> str:
        return f"{self.module}.{self.name}"

    def assigned(self, name: str) -> cst.BaseExpression | None:
        for target, value in reversed(self.body_assigns):
            if target == name:
                return value
        return None


@dataclass(slots=True)
class ModuleInfo:
    name: str
    path: Path
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    #: local name -> fully qualified candidates, in source order (try/except and
    #: TYPE_CHECKING imports give several; the first that resolves wins)
    imports: dict[str, list[str]] = field(default_factory=dict)
    constants: dict[str, cst.BaseExpression] = field(default_factory=dict)
    #: ``_IMPORT_MAP`` of the common.compat shims: name -> candidate modules (lazy re-exports)
    import_map: dict[str, tuple[str, ...]] = field(default_factory=dict)


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for Name/Attribute chains; the value of a subscript (``Base[Hook]`` -> ``Base``)."""
    if isinstance(node, cst.Subscript):
        return dotted(node.value)
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _module_of(module: str, level: int, relative: str | None, is_package: bool) -> str:
    if level == 0:
        return relative or ""
    parts = module.split(".")
    # A package's own name counts as the first level for its relative imports.
    drop = level - 1 if is_package else level
    base = parts[: len(parts) - drop] if drop else parts
    return ".".join([*base, relative] if relative else base)


def _init_info(func: cst.FunctionDef) -> InitInfo:
    p = func.params
    # Positional-only parameters cannot be passed by keyword, and self is never passed.
    params = [InitParam(x.name.value, x.default is not None) for x in p.params if x.name.value != "self"]
    params += [InitParam(x.name.value, x.default is not None) for x in p.kwonly_params]
    kw_name = p.star_kwarg.name.value if p.star_kwarg is not None else None

    passed_up: set[str] = set()
    read: set[str] = set()

    class _Scan(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func_name = dotted(node.func) or ""
            is_super = isinstance(node.func, cst.Attribute) and node.func.attr.value == "__init__"
            if is_super or func_name.endswith(".__init__"):
                passed_up.update(a.keyword.value for a in node.args if a.keyword is not None)
            # kwargs.pop("x") / kwargs.get("x"): the class consumes "x" itself.
            if (
                kw_name
                and isinstance(node.func, cst.Attribute)
                and isinstance(node.func.value, cst.Name)
                and node.func.value.value == kw_name
                and node.func.attr.value in ("pop", "get")
                and node.args
            ):
                key = _string(node.args[0].value)
                if key:
                    read.add(key)

        def visit_Assign(self, node: cst.Assign) -> bool:
            # kwargs["x"] = v sets a value for the base; only the right side reads.
            node.value.visit(self)
            return False

        def visit_Subscript(self, node: cst.Subscript) -> None:
            if kw_name and isinstance(node.value, cst.Name) and node.value.value == kw_name:
                elem = node.slice[0].slice if node.slice else None
                if isinstance(elem, cst.Index):
                    key = _string(elem.value)
                    if key:
                        read.add(key)

    func.body.visit(_Scan())
    return InitInfo(tuple(params), kw_name is not None, frozenset(passed_up), frozenset(read))


def _class_info(module: str, node: cst.ClassDef) -> ClassInfo:
    init: InitInfo | None = None
    assigns: list[tuple[str, cst.BaseExpression]] = []
    methods: set[str] = set()
    for stmt in node.body.body:
        if isinstance(stmt, cst.FunctionDef):
            methods.add(stmt.name.value)
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__":
            init = _init_info(stmt)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                assigns.extend(_assignments(small))
    bases = tuple(a.value for a in node.bases if a.keyword is None)
    return ClassInfo(module, node.name.value, bases, init, tuple(assigns), frozenset(methods))


def _assignments(small: cst.BaseSmallStatement) -> Iterator[tuple[str, cst.BaseExpression]]:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            if isinstance(target.target, cst.Name):
                yield target.target.value, small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        if isinstance(small.target, cst.Name):
            yield small.target.value, small.value


def _walk_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Top-level statements, descending into ``if``/``try`` blocks (conditional imports)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, cst.If):
            yield from _walk_statements(stmt.body.body)
            orelse = stmt.orelse
            while orelse is not None:
                yield from _walk_statements(orelse.body.body)
                orelse = getattr(orelse, "orelse", None)
        elif isinstance(stmt, cst.Try):
            yield from _walk_statements(stmt.body.body)
            for handler in stmt.handlers:
                yield from _walk_statements(handler.body.body)
            if stmt.orelse is not None:
                yield from _walk_statements(stmt.orelse.body.body)


def parse_module(name: str, path: Path) -> ModuleInfo:
    tree = cst.parse_module(path.read_text(encoding="utf-8"))
    info = ModuleInfo(name, path)
    is_package = path.name == "__init__.py"
    for stmt in _walk_statements(tree.body):
        if isinstance(stmt, cst.ClassDef):
            info.classes.setdefault(stmt.name.value, _class_info(name, stmt))
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                rel = dotted(small.module) if small.module is not None else None
                source = _module_of(name, len(small.relative), rel, is_package)
                for alias in small.names:
                    imported = dotted(alias.name) or ""
                    local = dotted(alias.asname.name) if alias.asname else imported
                    info.imports.setdefault(local or imported, []).append(f"{source}.{imported}")
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    full = dotted(alias.name) or ""
                    if alias.asname:
                        info.imports.setdefault(dotted(alias.asname.name) or full, []).append(full)
                    else:
                        head = full.split(".")[0]
                        info.imports.setdefault(head, []).append(head)
            for target, value in _assignments(small):
                if target == "_IMPORT_MAP" and isinstance(value, cst.Dict):
                    info.import_map.update(_import_map(value))
                else:
                    info.constants.setdefault(target, value)
    return info


def _import_map(node: cst.Dict) -> Iterator[tuple[str, tuple[str, ...]]]:
    for element in node.elements:
        if not isinstance(element, cst.DictElement):
            continue
        key = _string(element.key)
        value = element.value
        if isinstance(value, cst.Tuple):
            mods = tuple(s for s in (_string(e.value) for e in value.elements) if s)
        else:
            single = _string(value)
            mods = (single,) if single else ()
        if key and mods:
            yield key, mods


class SourceTree:
    """Finds and parses modules by dotted name, caching each parse."""

    def __init__(self, search_path: Sequence[str] | None = None) -> None:
        roots = search_path if search_path is not None else sys.path
        self._roots = [Path(p) for p in roots if p and Path(p).is_dir()]
        self._modules: dict[str, ModuleInfo | None] = {}

    def module(self, name: str) -> ModuleInfo | None:
        if name not in self._modules:
            path = self.find(name)
            self._modules[name] = parse_module(name, path) if path else None
        return self._modules[name]

    def parsed(self) -> Iterator[ModuleInfo]:
        """The modules parsed so far, by name."""
        for name in sorted(self._modules):
            info = self._modules[name]
            if info is not None:
                yield info

    def find(self, name: str) -> Path | None:
        rel = Path(*name.split("."))
        for root in self._roots:
            for candidate in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def resolve_name(self, module: str, name: str, _depth: int = 0) -> str | None:
        """Fully qualified path of ``name`` as seen from ``module``, following re-exports."""
        if _depth > 12:  # pragma: no cover - defends against import cycles between shims
            return None
        head, _, rest = name.partition(".")
        info = self.module(module)
        if info is None:
            return None
        if head in info.classes:
            return f"{module}.{name}"
        candidates = list(info.imports.get(head, ()))
        candidates += [f"{m}.{head}" for m in info.import_map.get(head, ())]
        for full in candidates:
            target = f"{full}.{rest}" if rest else full
            found = self.locate(target, _depth + 1)
            if found:
                return found
        if head in info.constants:
            return f"{module}.{name}"
        return None

    def locate(self, path: str, _depth: int = 0) -> str | None:
        """Canonical path of a dotted name: the module that defines it, through re-exports."""
        parts = path.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            mod, attr = ".".join(parts[:cut]), ".".join(parts[cut:])
            if self.find(mod) is None:
                continue
            return self.resolve_name(mod, attr, _depth)
        return None

    def class_info(self, path: str) -> ClassInfo | None:
        mod, _, name = path.rpartition(".")
        info = self.module(mod)
        return info.classes.get(name) if info else None
