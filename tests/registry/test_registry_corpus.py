"""No false unknown-argument: every keyword in the provider's own example DAGs is accepted.

The corpus is the Amazon provider 9.30.0 system-test examples, fetched into a cache folder by
tests/provider_corpus.py (never committed). Without it the test skips.
"""

from __future__ import annotations


import libcst as cst
import pytest

from provider_corpus import CORPUS_VERSION, corpus_dir
from dag_converter.analyzer.imports import dotted_name, import_bindings
from dag_converter.registry import AMAZON_PREFIX, get_registry



class _Calls(cst.CSTVisitor):
    """Import table plus every call of an imported name, with its keyword names."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.calls: list[tuple[str, list[str], int]] = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not node.relative:
            self._bind(node)

    def visit_Import(self, node: cst.Import) -> None:
        self._bind(node)

    def _bind(self, node: cst.Import | cst.ImportFrom) -> None:
        # The converter's own import table, so the test checks what the analyzer resolves.
        for local, symbol in import_bindings(node) or []:
            self.names[local] = symbol.qualname

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        # Op.partial(...) and Op.partial(...).expand(...) pass operator arguments too.
        if isinstance(func, cst.Attribute) and func.attr.value in ("partial", "expand", "expand_kwargs"):
            inner = func.value
            while isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute):
                inner = inner.func.value
            func = inner
        name = dotted_name(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if not name:
            return
        head, _, rest = name.partition(".")
        if head not in self.names:
            return
        path = f"{self.names[head]}.{rest}" if rest else self.names[head]
        keywords = [a.keyword.value for a in node.args if a.keyword is not None]
        self.calls.append((path, keywords, 0))


def test_example_dags_use_only_accepted_arguments(capsys) -> None:
    folder = corpus_dir()
    if folder is None:
        pytest.skip(f"Amazon provider {CORPUS_VERSION} example corpus not available (fetch failed or offline)")
    registry = get_registry()
    files = sorted(folder.rglob("example_*.py"))
    assert files, folder
    checked = 0
    problems: list[str] = []
    for file in files:
        visitor = _Calls()
        cst.parse_module(file.read_text(encoding="utf-8")).visit(visitor)
        for path, keywords, _ in visitor.calls:
            resolution = registry.resolve(path)
            rule = resolution.rule
            if rule is None:
                is_operator = path.rsplit(".", 1)[-1].endswith(("Operator", "Sensor"))
                if resolution.canonical.startswith(AMAZON_PREFIX) and is_operator:
                    problems.append(f"{file.name}: unknown Amazon class {path}")
                continue
            if not rule.class_path.startswith(AMAZON_PREFIX):
                continue
            checked += 1
            for keyword in keywords:
                if not rule.accepts(keyword):
                    problems.append(f"{file.name}: {rule.class_path} does not accept {keyword!r}")
    assert checked > 100, checked
    assert not problems, "\n".join(problems)
    with capsys.disabled():
        print(f"\ncorpus: {checked} Amazon operator calls in {len(files)} example files, all arguments accepted")
