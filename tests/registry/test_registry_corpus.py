"""No false unknown-argument: every keyword in the provider's own example DAGs is accepted.

The corpus is the Amazon provider 9.30.0 system-test examples, fetched into a cache folder by
/work/shared/corpus/fetch-provider-examples.sh (never committed). Without it the test skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import libcst as cst
import pytest

from dag_converter.registry import AMAZON_PREFIX, get_registry

CORPUS_VERSION = "9.30.0"
FETCH_SCRIPT = Path("/work/shared/corpus/fetch-provider-examples.sh")


def _corpus_dir() -> Path | None:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folder = cache / "dag-converter-corpus" / f"amazon-{CORPUS_VERSION}" / "tests/system/amazon/aws"
    if folder.is_dir():
        return folder
    if not FETCH_SCRIPT.is_file() or shutil.which("bash") is None:
        return None
    try:
        done = subprocess.run(
            ["bash", str(FETCH_SCRIPT), CORPUS_VERSION], capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = Path(done.stdout.strip()) if done.returncode == 0 else None
    return path if path and path.is_dir() else None


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


class _Calls(cst.CSTVisitor):
    """Import table plus every call of an imported name, with its keyword names."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.calls: list[tuple[str, list[str], int]] = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = _dotted(node.module)
        for alias in node.names:
            name = _dotted(alias.name)
            local = _dotted(alias.asname.name) if alias.asname else name
            if module and name and local:
                self.names[local] = f"{module}.{name}"

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = _dotted(alias.name)
            if full:
                local = _dotted(alias.asname.name) if alias.asname else full
                self.names[local or full] = full

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        # Op.partial(...) and Op.partial(...).expand(...) pass operator arguments too.
        if isinstance(func, cst.Attribute) and func.attr.value in ("partial", "expand", "expand_kwargs"):
            inner = func.value
            while isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute):
                inner = inner.func.value
            func = inner
        name = _dotted(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if not name:
            return
        head, _, rest = name.partition(".")
        if head not in self.names:
            return
        path = f"{self.names[head]}.{rest}" if rest else self.names[head]
        keywords = [a.keyword.value for a in node.args if a.keyword is not None]
        self.calls.append((path, keywords, 0))


def test_example_dags_use_only_accepted_arguments(capsys) -> None:
    folder = _corpus_dir()
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
