"""storage: local sources (one Source type), exclusion, LocalSink and atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dag_converter.errors import ConfigError
from dag_converter.storage import Storage, StorageError, open_sink, open_sources
from dag_converter.storage.local import LocalSink, write_atomic


def _tree(root: Path) -> Path:
    for relative in ("dags/a.py", "dags/sub/b.py", "dags/legacy/c.py", "other/d.py"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("dag = 1\n", encoding="utf-8")
    return root


def test_sources_in_path_order_with_roots_sizes_and_explicit_flags(tmp_path: Path) -> None:
    _tree(tmp_path)
    named = str(tmp_path / "other" / "d.py")
    found = open_sources([named, str(tmp_path / "dags")])
    assert [(Path(s.display).relative_to(tmp_path).as_posix(), s.relative, s.explicit) for s in found.sources] == [
        ("other/d.py", "d.py", True), ("dags/a.py", "a.py", False), ("dags/legacy/c.py", "legacy/c.py", False),
        ("dags/sub/b.py", "sub/b.py", False)]
    assert [s.root for s in found.sources] == [tmp_path / "other"] + [tmp_path / "dags"] * 3
    assert all(s.size == 8 and s.read() == b"dag = 1\n" for s in found.sources)
    assert not found.problems


def test_fingerprint_is_the_file_s_own_and_its_path_below_its_folder(tmp_path: Path) -> None:
    # What else of the folder a DAG file depends on is in its manifest entry (FileResult.reads),
    # so an edit to one file changes that file's fingerprint only.
    _tree(tmp_path)
    before = {s.display: s.fingerprint for s in open_sources([str(tmp_path / "dags")]).sources}
    helper = tmp_path / "dags" / "sub" / "b.py"
    helper.write_text("dag = 22\n", encoding="utf-8")
    after = {s.display: s.fingerprint for s in open_sources([str(tmp_path / "dags")]).sources}
    assert [d for d in before if before[d] != after[d]] == [str(helper)]
    # Named alone, the file has its own folder as DAG folder: another path, another fingerprint.
    alone = open_sources([str(helper)]).sources[0]
    assert alone.display == str(helper) and alone.fingerprint != after[str(helper)]


def test_excludes_are_relative_to_the_base(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = open_sources([str(tmp_path / "dags")], excludes=["dags/legacy"], base=tmp_path)
    assert [Path(s.display).name for s in found.sources] == ["a.py", "b.py"]
    assert found.excluded == (str(tmp_path / "dags" / "legacy" / "c.py"),)


def test_missing_path_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    found = open_sources([str(tmp_path / "nope")])
    assert found.sources == () and [d.code for d in found.problems] == ["DC109"]


def test_local_sink_compares_by_text_and_writes_atomically(tmp_path: Path) -> None:
    sink = open_sink(str(tmp_path / "out"))
    assert isinstance(sink, LocalSink)
    assert not sink.exists("a.yaml") and sink.read_text("a.yaml") is None
    sink.write_text("a.yaml", "x: 1\n")
    assert sink.exists("a.yaml") and sink.is_current("a.yaml", "x: 1\n") and not sink.is_current("a.yaml", "x: 2\n")
    assert os.listdir(tmp_path / "out") == ["a.yaml"]  # no temporary file left behind


def test_local_sink_failure_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("", encoding="utf-8")
    with pytest.raises(StorageError):
        LocalSink(tmp_path / "blocker" / "out").write_text("a.yaml", "x: 1\n")


def test_write_atomic_leaves_the_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.yaml"
    write_atomic(target, "old\n")

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["a.yaml"]


def test_a_bad_s3_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no bucket"):
        Storage().open_sink("s3:///prefix")
