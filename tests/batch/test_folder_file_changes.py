"""A rerun converts a DAG file again when a file of its DAG folder that its conversion read or
looked for changed: a helper module, a data file, a template file, or a module that was missing
and now exists. Exactly the DAG files that depend on the edited file are redone (issue 22)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dag_converter.batch.manifest import MANIFEST_NAME, MANIFEST_VERSION
from dag_converter.batch.runner import run_sources
from dag_converter.pipeline import Options
from dag_converter.storage import open_sink, open_sources
from tests.batch._folder_edits import EDITS, TREE, run, spy_conversions, write_tree


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return spy_conversions(monkeypatch)


def _local(tmp_path: Path) -> tuple[Path, Callable[[str, str], None]]:
    dags = tmp_path / "dags"

    def write(name: str, text: str) -> None:
        (dags / name).parent.mkdir(parents=True, exist_ok=True)
        (dags / name).write_text(text, encoding="utf-8")

    write_tree(write, TREE)
    return dags, write


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edit_to_a_folder_file_reconverts_exactly_its_dependants(tmp_path: Path, converted: list[str],
                                                                  edit: str) -> None:
    dags, write = _local(tmp_path)
    out = tmp_path / "out"
    python_files = {name for name in TREE if name.endswith("_dag.py")}
    assert run(str(dags), str(out), converted) >= python_files
    assert run(str(dags), str(out), converted) == set()  # nothing changed: nothing converted
    files, dependants, (dag_id, expected) = EDITS[edit]
    before = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.yaml")}
    write_tree(write, files)
    redone = run(str(dags), str(out), converted)
    assert redone - {name for name in files if name.endswith(".py")} == dependants
    after = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.yaml")}
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == ({f"{dag_id}.yaml"} if dag_id else set())
    if dag_id:
        assert expected in after[f"{dag_id}.yaml"]
    assert run(str(dags), str(out), converted) == set()  # and the run after it converts nothing again


def test_a_vanished_file_reconverts_its_dependant(tmp_path: Path, converted: list[str]) -> None:
    dags, _ = _local(tmp_path)
    out = tmp_path / "out"
    run(str(dags), str(out), converted)
    (dags / "team" / "tables.json").unlink()
    assert run(str(dags), str(out), converted) == {"team/data_dag.py"}
    assert not (out / "data_dag.yaml").exists() or "table-orders" in (out / "data_dag.yaml").read_text("utf-8")
    report = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))["sources"]
    entry = report[str(dags / "team" / "data_dag.py")]
    assert entry["result"]["status"] == "refused" and entry["reads"]["team/tables.json"] == "missing"


def test_the_manifest_records_each_read_with_its_version(tmp_path: Path, converted: list[str]) -> None:
    import hashlib

    dags, _ = _local(tmp_path)
    out = tmp_path / "out"
    run(str(dags), str(out), converted)
    document = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert document["manifest_version"] == MANIFEST_VERSION == 2
    sources = document["sources"]

    def sha(name: str) -> str:
        return "sha256:" + hashlib.sha256(TREE[name].encode()).hexdigest()

    assert sources[str(dags / "helper_dag.py")]["reads"] == {
        "common.py": "missing", "common/__init__.py": sha("common/__init__.py"),
        "common/settings.py": sha("common/settings.py")}
    assert sources[str(dags / "team" / "data_dag.py")]["reads"] == {"team/tables.json": sha("team/tables.json")}
    assert sources[str(dags / "team" / "template_dag.py")]["reads"] == {"team/sql/q.sql": sha("team/sql/q.sql")}
    assert sources[str(dags / "missing_dag.py")]["reads"] == {
        "overrides": "missing", "overrides.py": "missing", "overrides/__init__.py": "missing"}
    assert "reads" not in sources[str(dags / "plain_dag.py")]


def test_a_manifest_of_the_previous_layout_converts_everything_again(tmp_path: Path, converted: list[str]) -> None:
    dags, _ = _local(tmp_path)
    out = tmp_path / "out"
    run(str(dags), str(out), converted)
    path = out / MANIFEST_NAME
    document = json.loads(path.read_text(encoding="utf-8"))
    document["manifest_version"] = 1
    for entry in document["sources"].values():
        if "reads" in entry:
            entry["reads"] = sorted(entry["reads"])  # version 1 listed module paths only
    path.write_text(json.dumps(document), encoding="utf-8")
    assert run(str(dags), str(out), converted) >= {name for name in TREE if name.endswith("_dag.py")}


def test_touching_a_helper_without_changing_its_bytes_reconverts_nothing(tmp_path: Path, converted: list[str]) -> None:
    import os

    dags, _ = _local(tmp_path)
    out = tmp_path / "out"
    run(str(dags), str(out), converted)
    os.utime(dags / "common" / "settings.py", ns=(1, 1))  # versions are digests of the bytes, not mtimes
    assert run(str(dags), str(out), converted) == {"common/settings.py"}  # itself a source of the walk


def test_a_code_package_is_built_again_when_a_file_it_ships_changes(tmp_path: Path, converted: list[str]) -> None:
    """With code packages the template file is shipped, not inlined: its edit rebuilds the package."""
    from dag_converter.targets import get_target

    dags, write = _local(tmp_path)
    out = tmp_path / "out"
    options = Options(target=get_target("mwaa-serverless-code"))

    def run_packaged() -> set[str]:
        converted.clear()
        outcome = run_sources(open_sources([str(dags)]).sources, options, open_sink(str(out)))
        assert not outcome.problems
        return set(converted)

    run_packaged()
    package = out / "template_dag.code.zip"
    first = package.read_bytes()
    assert run_packaged() == set()
    write("team/sql/q.sql", "select 3\n")
    assert run_packaged() == {"team/template_dag.py"}
    assert package.read_bytes() != first
    entry = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))["sources"][str(dags / "team" /
                                                                                           "template_dag.py")]
    assert "team/sql/q.sql" in entry["reads"]
