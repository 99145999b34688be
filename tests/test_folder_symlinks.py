"""Nothing outside the DAG folder's root is read: helper modules, data and template files, and
the DAG files of the walk are refused when their real path (links resolved) leaves the root,
each with a diagnostic at the line that names it; a link inside the root to a file inside it is
followed (issue 22)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dag_converter.folder_reads import folder_reads
from dag_converter.model import FileResult
from dag_converter.pipeline import Options, convert_source
from dag_converter.storage import open_sources

HEAD = '''from datetime import datetime
import json
import os

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
'''
SECRET = "secret-bucket-outside"


def _dag(imports: str, value: str) -> str:
    return HEAD + imports + f'''
with DAG("d", start_date=datetime(2025, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="t", bucket_name={value})
'''


def _convert(root: Path, name: str) -> FileResult:
    data = (root / name).read_bytes()
    return convert_source(data, str(root / name), name, Options(), root=root)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    root, outside = tmp_path / "dags", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "settings.py").write_text(f'BUCKET = "{SECRET}"\n', encoding="utf-8")
    (outside / "t.json").write_text(f'{{"bucket": "{SECRET}"}}', encoding="utf-8")
    return root, outside


@pytest.mark.parametrize(("link", "target", "module"), [
    ("helper.py", "settings.py", "helper"),  # a module that is a link out of the root
    ("common", "", "common.settings"),  # a package folder that is a link out of the root
])
def test_a_helper_module_linked_out_of_the_root_is_refused_at_its_import(
        folders: tuple[Path, Path], link: str, target: str, module: str) -> None:
    root, outside = folders
    os.symlink(outside / target if target else outside, root / link)
    (root / "d.py").write_text(_dag(f"from {module} import BUCKET\n", "BUCKET"), encoding="utf-8")
    result = _convert(root, "d.py")
    [dag] = result.dags
    assert not dag.converted
    [diagnostic] = [d for d in dag.diagnostics if "outside the DAG folder" in d.message]
    assert diagnostic.span.line == HEAD.count("\n") + 1  # the import's line
    assert f"module {module} " in diagnostic.message and SECRET not in diagnostic.message
    path = f"{module.replace('.', '/')}.py"
    assert {r.path: r.version for r in result.reads}[path] == "outside"  # recorded, never read


def test_two_links_to_one_outside_file_are_each_refused_by_their_own_name(folders: tuple[Path, Path]) -> None:
    root, outside = folders
    os.symlink(outside / "settings.py", root / "first.py")
    os.symlink(outside / "settings.py", root / "second.py")
    source = _dag("from first import BUCKET\nfrom second import BUCKET as OTHER\n", "BUCKET")
    (root / "d.py").write_text(source + '    S3CreateBucketOperator(task_id="u", bucket_name=OTHER)\n',
                               encoding="utf-8")
    messages = " ".join(d.message for d in _convert(root, "d.py").all_diagnostics())
    assert "'first.py' is outside" in messages and "'second.py' is outside" in messages


def test_a_link_inside_the_root_to_a_module_inside_it_is_followed(folders: tuple[Path, Path]) -> None:
    root, _ = folders
    (root / "common").mkdir()
    (root / "common" / "settings.py").write_text('BUCKET = "inside-bucket"\n', encoding="utf-8")
    os.symlink(root / "common" / "settings.py", root / "alias.py")
    (root / "d.py").write_text(_dag("from alias import BUCKET\n", "BUCKET"), encoding="utf-8")
    [dag] = _convert(root, "d.py").dags
    assert dag.converted and "inside-bucket" in (dag.yaml_text or "")


@pytest.mark.parametrize("linked", ["file", "folder"])
def test_a_data_file_linked_out_of_the_root_is_refused_at_its_read(folders: tuple[Path, Path], linked: str) -> None:
    root, outside = folders
    if linked == "file":
        os.symlink(outside / "t.json", root / "t.json")
        name = "t.json"
    else:
        os.symlink(outside, root / "data")
        name = "data/t.json"
    read = f'CONFIG = json.load(open(os.path.join(os.path.dirname(__file__), "{name}")))\n'
    (root / "d.py").write_text(_dag(read, 'CONFIG["bucket"]'), encoding="utf-8")
    [dag] = _convert(root, "d.py").dags
    assert not dag.converted
    [diagnostic] = [d for d in dag.diagnostics if "outside the DAG folder" in d.message]
    assert diagnostic.span.line == HEAD.count("\n") + 1 and SECRET not in diagnostic.message


def test_a_dag_file_linked_out_of_the_root_is_listed_but_never_read(folders: tuple[Path, Path]) -> None:
    root, outside = folders
    (outside / "evil.py").write_text(_dag("", f'"{SECRET}"'), encoding="utf-8")
    os.symlink(outside / "evil.py", root / "evil.py")
    (root / "inner").mkdir()
    (root / "inner" / "good.py").write_text(_dag("", '"good"'), encoding="utf-8")
    os.symlink(root / "inner" / "good.py", root / "alias.py")  # inside the root: read
    found = {s.relative: s for s in open_sources([str(root)]).sources}
    with pytest.raises(OSError, match="outside the DAG folder"):
        found["evil.py"].read()
    assert b"good" in found["alias.py"].read()


def test_the_import_scan_never_reads_a_module_linked_out_of_the_root(folders: tuple[Path, Path],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root, outside = folders
    (outside / "settings.py").write_text("import deeper\n", encoding="utf-8")
    (root / "deeper.py").write_text("X = 1\n", encoding="utf-8")
    os.symlink(outside / "settings.py", root / "helper.py")
    read: list[str] = []
    real = Path.read_bytes

    def spy(self: Path) -> bytes:
        read.append(os.path.realpath(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    assert folder_reads("import helper\n", "d.py", root) == ("helper.py",)  # named, not followed
    assert not any(path.startswith(os.path.realpath(outside)) for path in read)


def test_an_airflowignore_linked_out_of_the_root_is_reported_and_not_read(folders: tuple[Path, Path]) -> None:
    root, outside = folders
    (outside / "ignore").write_text("*\n", encoding="utf-8")
    os.symlink(outside / "ignore", root / ".airflowignore")
    (root / "d.py").write_text(_dag("", '"b"'), encoding="utf-8")
    found = open_sources([str(root)])
    assert [s.relative for s in found.sources] == ["d.py"]  # its rules (ignore everything) were not applied
    [problem] = found.problems
    assert problem.code == "DC104" and "outside the DAG folder" in problem.message
    assert problem.span.path.endswith(".airflowignore")
