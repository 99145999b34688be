"""Build the registry data from an installed provider's source, statically.

Reads a provider's operator modules (``airflow/providers/amazon/aws/{operators,sensors,transfers}/*.py``
for the Amazon provider, ``airflow/providers/standard/{operators,sensors}/*.py`` for the standard
provider Airflow 3 bundles) and the Airflow task SDK's ``BaseOperator``/``BaseSensorOperator`` with
libcst. Nothing is imported: the files are found through ``importlib.metadata`` and ``sys.path`` and
parsed, like any user DAG file. `PROVIDERS` names the providers the registry ships data for.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import libcst as cst

from dag_converter.registry._allowlist import ALLOWLIST
from dag_converter.registry._enums import provider_enums
from dag_converter.registry._source import (
    BASE_OPERATOR,
    BASE_SENSOR,
    ROOTS,
    ClassInfo,
    SourceTree,
    dotted,
)

TASK_SDK_DIST: Final = "apache-airflow-task-sdk"


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider whose operator classes the registry describes."""

    key: str  #: short name: the data file is ``<key>-<version>.json``
    distribution: str  #: the PyPI distribution read
    package: str  #: the package holding the operator subpackages
    subpackages: tuple[str, ...]
    iam: bool = False  #: also derive IAM actions (AWS operators only)


AMAZON: Final = Provider("amazon", "apache-airflow-providers-amazon", "airflow.providers.amazon.aws",
                         ("operators", "sensors", "transfers"), iam=True)
#: The standard provider Airflow 3.0.6 bundles: PythonOperator, BashOperator, EmptyOperator, sensors.
STANDARD: Final = Provider("standard", "apache-airflow-providers-standard", "airflow.providers.standard",
                           ("operators", "sensors"))
PROVIDERS: Final = {p.key: p for p in (AMAZON, STANDARD)}
PROVIDER_DIST: Final = AMAZON.distribution
AWS_PACKAGE: Final = AMAZON.package
SUBPACKAGES: Final = AMAZON.subpackages
DATA_FORMAT: Final = 1
DATA_DIR: Final = Path(__file__).parent / "data"

#: Short names of the two roots, as the data file stores them.
ROOT_NAMES: Final = {BASE_OPERATOR: "BaseOperator", BASE_SENSOR: "BaseSensorOperator"}

# Bases that carry no operator parameters: typing machinery and the standard library's ABCs.
# Never parsed, so the result does not depend on the Python version running the build.
_INERT_MODULES: Final = frozenset({"typing", "typing_extensions", "abc", "builtins", "enum", "collections"})
_BUILTIN_BASES: Final = frozenset({"object", "Exception"})
_ROOT_BY_NAME: Final = {"BaseOperator": BASE_OPERATOR, "BaseSensorOperator": BASE_SENSOR}

# ``aws_template_fields(*names)`` in ``amazon/aws/utils/mixins.py`` returns these plus ``names``,
# sorted. Kept here instead of evaluated because it is a function body, not a literal; the
# registry tests compare every class's result with ``cls.template_fields`` as Airflow reports it.
_AWS_TEMPLATE_FIELDS: Final = frozenset({"aws_conn_id", "region_name", "verify"})


@dataclass(frozen=True, slots=True)
class _BaseRef:
    path: str  #: fully qualified when found, else the name as imported
    found: bool  #: False when the module defining it is not installed or not parseable


class NotStatic(Exception):
    """A ``template_fields`` value the builder cannot evaluate without running code."""


@dataclass(frozen=True, slots=True)
class ClassReport:
    """Everything the builder learned about one operator class."""

    path: str
    kind: str
    service: str
    params: tuple[tuple[str, bool], ...]  #: (name, required), own class first, then up the MRO
    root: str | None  #: deepest root whose __init__ the kwargs chain reaches
    templated_fields: tuple[str, ...]
    templated_static: bool
    unresolved: tuple[str, ...]  #: bases that are not installed or not parseable
    complete: bool  #: params lists every accepted keyword
    note: str


class _Builder:
    def __init__(self, tree: SourceTree) -> None:
        self.tree = tree
        self._mro: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    # -- classes and their MRO -------------------------------------------------------------
    def base_ref(self, cls: ClassInfo, expr: cst.BaseExpression) -> _BaseRef | None:
        """Where a base class expression points; ``None`` for bases without parameters."""
        name = dotted(expr)
        if name is None:
            return _BaseRef(cst.Module([]).code_for_node(expr), found=False)
        sources = self._import_sources(cls.module, name)
        if name in _BUILTIN_BASES or any(s.split(".")[0] in _INERT_MODULES for s in sources):
            return None
        resolved = self.tree.resolve_name(cls.module, name)
        root = _ROOT_BY_NAME.get(name.rsplit(".", 1)[-1])
        # Airflow re-exports the two roots through shims (common.compat.sdk, airflow.sdk) whose
        # lazy __getattr__ tables are not all literal; from any airflow module they mean the SDK class.
        if root and resolved not in ROOTS and (resolved or any(s.startswith("airflow.") for s in sources)):
            return _BaseRef(root, found=True)
        if resolved is None:
            return _BaseRef(sources[0] if sources else name, found=False)
        return _BaseRef(resolved, found=True)

    def _import_sources(self, module: str, name: str) -> list[str]:
        info = self.tree.module(module)
        head = name.split(".")[0]
        return list(info.imports.get(head, ())) if info else []

    def mro(self, path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """C3 linearisation of resolved classes, and the unresolved bases met on the way."""
        if path in self._mro:
            return self._mro[path]
        if path == BASE_OPERATOR:
            result: tuple[tuple[str, ...], tuple[str, ...]] = ((path,), ())
            self._mro[path] = result
            return result
        self._mro[path] = ((path,), ())  # breaks accidental cycles
        cls = self.tree.class_info(path)
        if cls is None:
            result = ((), (path,))
            self._mro[path] = result
            return result
        bases: list[str] = []
        unresolved: list[str] = []
        for expr in cls.bases:
            ref = self.base_ref(cls, expr)
            if ref is None:
                continue
            if not ref.found:
                unresolved.append(ref.path)
                continue
            sub, missing = self.mro(ref.path)
            unresolved.extend(missing)
            if sub:
                bases.append(ref.path)
        linear = _c3(path, [list(self.mro(b)[0]) for b in bases] + [bases])
        result = (tuple(linear), tuple(dict.fromkeys(unresolved)))
        self._mro[path] = result
        return result

    # -- parameters ------------------------------------------------------------------------
    def params(self, mro: tuple[str, ...]) -> tuple[tuple[tuple[str, bool], ...], str | None, bool]:
        """Accepted keywords with required flags, the root reached, and whether the chain ended."""
        seen: dict[str, bool] = {}
        supplied: set[str] = set()
        root: str | None = None
        for path in mro:
            cls = self.tree.class_info(path)
            if cls is None or cls.init is None:
                continue
            init = cls.init
            for param in init.params:
                if param.name not in seen:
                    seen[param.name] = not param.has_default and param.name not in supplied
            for name in sorted(init.read_from_kwargs):
                if not name.startswith("_"):
                    seen.setdefault(name, False)
            supplied |= init.passed_up
            if path in ROOTS:
                root = path
            # BaseOperator takes **kwargs only to raise a TypeError on leftovers.
            if not init.var_kwargs or path == BASE_OPERATOR:
                return tuple(seen.items()), root, True
        return tuple(seen.items()), root, False

    # -- template_fields -------------------------------------------------------------------
    def template_fields(self, mro: tuple[str, ...]) -> tuple[str, ...]:
        for path in mro:
            cls = self.tree.class_info(path)
            if cls is None:
                continue
            expr = cls.assigned("template_fields")
            if expr is not None:
                return tuple(dict.fromkeys(self.evaluate(expr, cls.module, cls)))
        raise NotStatic("no class in the MRO sets template_fields")

    def evaluate(self, node: cst.BaseExpression, module: str, cls: ClassInfo | None) -> list[str]:
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            if isinstance(value, str):
                return [value]
        elif isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            out: list[str] = []
            for element in node.elements:
                out += self.evaluate(element.value, module, cls)
            return out
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.BitOr)):
            left = self.evaluate(node.left, module, cls)
            right = self.evaluate(node.right, module, cls)
            return left + right
        elif isinstance(node, cst.Call):
            return self._evaluate_call(node, module, cls)
        elif isinstance(node, cst.Name):
            if cls is not None and node.value != "template_fields":
                local = cls.assigned(node.value)
                if local is not None:
                    return self.evaluate(local, module, cls)
            info = self.tree.module(module)
            if info is not None and node.value in info.constants:
                return self.evaluate(info.constants[node.value], module, None)
            full = self.tree.resolve_name(module, node.value)
            if full:
                owner, _, name = full.rpartition(".")
                other = self.tree.module(owner)
                if other is not None and name in other.constants:
                    return self.evaluate(other.constants[name], owner, None)
        elif isinstance(node, cst.Attribute) and node.attr.value == "template_fields":
            name = dotted(node.value)
            owner = self.base_ref(cls, node.value) if name and cls is not None else None
            if owner is not None and owner.found:
                return list(self.template_fields(self.mro(owner.path)[0]))
            raise NotStatic(f"{name}.template_fields: {name} is not installed")
        raise NotStatic(f"cannot evaluate {cst.Module([]).code_for_node(node)!r}")

    def _evaluate_call(self, node: cst.Call, module: str, cls: ClassInfo | None) -> list[str]:
        name = dotted(node.func) or ""
        args = list(node.args)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "union":
            # `{"python"}.union(PythonOperator.template_fields)` (standard provider's python.py)
            union = self.evaluate(node.func.value, module, cls)
            for arg in args:
                union += self.evaluate(arg.value, module, cls)
            return sorted(set(union))
        if name.rsplit(".", 1)[-1] == "aws_template_fields":
            extra: list[str] = []
            for arg in args:
                extra += self.evaluate(arg.value, module, cls)
            return sorted(_AWS_TEMPLATE_FIELDS | set(extra))
        if name in ("tuple", "list", "set", "frozenset", "sorted") and len(args) == 1:
            values = self.evaluate(args[0].value, module, cls)
            return sorted(set(values)) if name == "sorted" else values
        raise NotStatic(f"cannot evaluate call to {name or '?'}")

    # -- one class -------------------------------------------------------------------------
    def report(self, path: str, subpackage: str) -> ClassReport | None:
        mro, unresolved = self.mro(path)
        derives = BASE_OPERATOR in mro
        name = path.rsplit(".", 1)[-1]
        if not derives and not (unresolved and name.endswith(("Operator", "Sensor"))):
            return None
        params, root, ended = self.params(mro)
        notes: list[str] = []
        if unresolved:
            notes.append("base not installed: " + ", ".join(unresolved))
        try:
            fields = self.template_fields(mro)
            static = True
        except NotStatic as exc:
            fields, static = (), False
            notes.append(f"template_fields not static: {exc}")
        # task_id is always given, separately from the other arguments (the task's key in YAML).
        params = tuple((n, False if n == "task_id" else r) for n, r in params)
        kind = "sensor" if BASE_SENSOR in mro else ("transfer" if subpackage == "transfers" else "operator")
        if not ended and not unresolved:
            notes.append("**kwargs reach no base that consumes them")
        return ClassReport(
            path=path,
            kind=kind,
            service=path.split(".")[-2],
            params=params,
            root=root,
            templated_fields=fields,
            templated_static=static,
            unresolved=unresolved,
            complete=ended and not unresolved,
            note="; ".join(notes),
        )


def _c3(head: str, sequences: list[list[str]]) -> list[str]:
    result = [head]
    seqs = [list(s) for s in sequences if s]
    while seqs:
        for seq in seqs:
            candidate = seq[0]
            if not any(candidate in s[1:] for s in seqs):
                break
        else:  # pragma: no cover - inconsistent hierarchy; Python itself would refuse it
            candidate = seqs[0][0]
        result.append(candidate)
        seqs = [[x for x in s if x != candidate] for s in seqs]
        seqs = [s for s in seqs if s]
    return result


def _search_path(provider: Provider = AMAZON) -> list[str]:
    """sys.path, with the provider's and the task SDK's install folders first."""
    roots: list[str] = []
    for dist in (provider.distribution, TASK_SDK_DIST):
        try:
            roots.append(str(importlib.metadata.distribution(dist).locate_file("")))
        except importlib.metadata.PackageNotFoundError:
            continue
    return list(dict.fromkeys([*roots, *sys.path]))


def _installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def provider_classes(tree: SourceTree, provider: Provider = AMAZON) -> Iterator[tuple[str, str]]:
    """(class path, subpackage) for every public class in the provider's operator modules."""
    for sub in provider.subpackages:
        package = f"{provider.package}.{sub}"
        init = tree.find(package)
        if init is None:
            continue
        for file in sorted(init.parent.glob("*.py")):
            if file.name.startswith("_"):
                continue
            module = tree.module(f"{package}.{file.stem}")
            if module is None:  # pragma: no cover - the glob found it
                continue
            for name in module.classes:
                if not name.startswith("_"):
                    yield f"{package}.{file.stem}.{name}", sub


def _root_params(builder: _Builder, root: str) -> list[tuple[str, bool]]:
    params, _, _ = builder.params(builder.mro(root)[0])
    return [(n, False if n == "task_id" else r) for n, r in params]


def build_registry_data(provider_version: str | None = None, provider: Provider = AMAZON) -> dict[str, Any]:
    """The registry data for the installed provider, as the JSON file stores it.

    ``provider_version`` is checked against the installed distribution: the data can only
    describe the source that is actually on disk.
    """
    dist = provider.distribution
    installed = _installed_version(dist)
    if installed is None:
        raise RuntimeError(f"{dist} is not installed; install the version to describe")
    if provider_version is not None and provider_version != installed:
        raise RuntimeError(
            f"{dist} {installed} is installed, not {provider_version}; "
            f"install {dist}=={provider_version} to build its data"
        )
    builder = _Builder(SourceTree(_search_path(provider)))
    reports = [builder.report(path, sub) for path, sub in provider_classes(builder.tree, provider)]
    bases = {ROOT_NAMES[r]: _root_params(builder, r) for r in (BASE_OPERATOR, BASE_SENSOR)}
    rules: dict[str, Any] = {}
    for report in sorted((r for r in reports if r is not None), key=lambda r: r.path):
        root_name = ROOT_NAMES.get(report.root or "")
        inherited = set(map(tuple, bases[root_name])) if root_name else set()
        own = [p for p in report.params if p not in inherited]
        rules[report.path] = {
            "kind": report.kind,
            "service": report.service,
            "base": root_name,
            "params": [name for name, _ in own],
            "required": [name for name, required in own if required],
            "templated_fields": sorted(report.templated_fields),
            "templated_fields_static": report.templated_static,
            "complete": report.complete,
            "allowlist": ALLOWLIST.get(report.path),
            "note": report.note,
        }
    enums, enum_aliases = provider_enums(builder.tree, provider.package)
    missing = sorted(path for path in ALLOWLIST if path not in rules and path.startswith(provider.package + "."))
    version = installed
    option = "" if provider is AMAZON else f" --provider {provider.key}"
    return {
        "_comment": (
            f"Generated by `dag-converter registry build{option} --provider-version {version}` "
            f"(python -m dag_converter.registry build{option}). Do not edit."
        ),
        "format": DATA_FORMAT,
        "provider": {"distribution": dist, "version": version},
        "task_sdk": {"distribution": TASK_SDK_DIST, "version": _installed_version(TASK_SDK_DIST)},
        "bases": {
            name: {"params": [n for n, _ in params], "required": [n for n, r in params if r]}
            for name, params in bases.items()
        },
        "rules": rules,
        "enums": enums,
        "enum_aliases": enum_aliases,
        "allowlist_not_in_provider": missing,
    }


def render_registry_data(data: dict[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, one-space indent (small diffs), trailing newline."""
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def default_data_path(version: str, provider: Provider = AMAZON) -> Path:
    return DATA_DIR / f"{provider.key}-{version}.json"


def write_registry_data(path: Path | str | None = None, provider_version: str | None = None,
                        provider: Provider = AMAZON) -> Path:
    """Build the data for the installed provider and write it (atomically) to ``path``."""
    data = build_registry_data(provider_version, provider)
    target = Path(path) if path is not None else default_data_path(data["provider"]["version"], provider)
    _write_json(target, data)
    if provider.iam:
        from dag_converter.registry._iam import iam_data_for  # IAM actions per class (issue 18)

        _write_json(target.with_name("iam-" + target.name), iam_data_for(data, [Path(p) for p in _search_path() if p]))
    return target


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write one data file atomically (a temporary file beside it, renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_registry_data(data), encoding="utf-8")
    tmp.replace(path)
