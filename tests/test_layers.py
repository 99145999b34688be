"""The import layering in pyproject.toml [tool.importlinter] holds (docs/architecture.md): stages
import only downwards, no underscore module is imported from another package, no circles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.is_file() else shutil.which("lint-imports")
    if found is None:
        pytest.skip("import-linter is not installed (the test extra)")
    return found


def test_import_contracts_are_kept() -> None:
    # PYTHONPATH first: the package analysed is this checkout's, not an installed copy.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    # Every contract in the file was checked and kept (none dropped by a typo in its type).
    for contract in contracts:
        assert f"{contract['name']} KEPT" in result.stdout, result.stdout
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout
