"""DagFolder records every path of the DAG folder an analysis read or looked for, with its version
(analyzer/_folder.py): what a rerun compares to decide whether to convert a DAG file again."""

from __future__ import annotations

import hashlib
from pathlib import Path

from dag_converter.analyzer._folder import DagFolder, LocalFolder


class _Failing(LocalFolder):
    """A local folder whose reads fail for a passing reason (a dropped connection on S3)."""

    def read(self, relative: str, limit: int) -> bytes | str:
        return f"{relative!r} cannot be read (connection reset)"


def test_lookups_reads_and_failures_are_recorded(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "plain.py").write_text("X = 1\n", encoding="utf-8")
    (tmp_path / "t.json").write_text("{}", encoding="utf-8")
    folder = DagFolder(LocalFolder(tmp_path), "dags")
    assert folder.module_file("pkg.missing") is None
    assert folder.module_file("plain.sub") is None  # a module that is no package has no submodules
    assert folder.parse("plain") is not None
    assert folder.read_data("t.json", 100) == b"{}"
    assert folder.read_data("../t.json", 100) == "'../t.json' is outside the DAG folder"  # never asked
    assert folder.module_file("os") is None  # the standard library is never looked for in the folder
    recorded = {r.path: r.version for r in folder.reads()}
    sha = "sha256:" + hashlib.sha256(b"X = 1\n").hexdigest()
    assert recorded == {
        "pkg.py": "missing", "pkg/__init__.py": "sha256:" + hashlib.sha256(b"").hexdigest(),
        "pkg/missing": "missing", "pkg/missing.py": "missing", "pkg/missing/__init__.py": "missing",
        "plain.py": sha, "t.json": "sha256:" + hashlib.sha256(b"{}").hexdigest()}
    assert [r.path for r in folder.reads()] == sorted(recorded)


def test_a_failed_read_is_recorded_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text("{}", encoding="utf-8")
    folder = DagFolder(_Failing(tmp_path), "dags")
    assert "cannot be read" in folder.read_data("t.json", 100)
    assert {r.path: r.version for r in folder.reads()} == {"t.json": "unreadable"}
    assert LocalFolder(tmp_path).digest("t.json") != "unreadable"  # so a rerun reads it again
