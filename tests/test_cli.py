"""The convert command end to end: exit codes, output lines, bad input, nothing half-written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from dag_converter.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from dag_converter.batch import convert_sources
from dag_converter.pipeline import Options
from dag_converter.storage.local import local_source
from fixture_cases import DAGS

GOOD = (DAGS / "s3_list_and_write.py").read_text(encoding="utf-8")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_converts_a_file_and_writes_yaml_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("convert", str(DAGS / "s3_list_and_write.py"), "--output", str(out))
    assert result.exit_code == EXIT_OK, result.output
    assert "\x1b[" not in result.output
    data = yaml.safe_load((out / "s3_list_and_write.yaml").read_text(encoding="utf-8"))
    assert list(data["s3_list_and_write"]["tasks"]) == ["list_objects", "write_listing"]
    report = json.loads((out / "conversion-report.json").read_text(encoding="utf-8"))
    assert report["summary"]["converted"] == 1
    dag = report["files"][0]["dags"][0]
    assert [t["task_id"] for t in dag["tasks"]] == ["list_objects", "write_listing"]
    assert dag["tasks"][1]["upstream"] == ["list_objects"]
    assert (out / "conversion-report.md").read_text(encoding="utf-8").startswith("# dag-converter report")


def test_refused_dag_exits_1_with_linter_lines(tmp_path: Path) -> None:
    result = run("convert", str(DAGS / "refused_python_operator.py"), "-o", str(tmp_path))
    assert result.exit_code == EXIT_REFUSED
    assert "refused_python_operator.py:15:14: DC301 [error]" in result.output
    assert "hint: convert with --code-package to ship the callable beside the YAML, or move the Python code" in result.output
    assert not (tmp_path / "refused_python_operator.yaml").exists()
    report = json.loads((tmp_path / "conversion-report.json").read_text(encoding="utf-8"))
    refused = report["files"][0]["dags"][0]
    assert refused["status"] == "refused" and refused["output"] is None
    assert [t["task_id"] for t in refused["tasks"]] == ["list", "summarize"]  # the map of a migration


def test_same_input_gives_identical_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert run("convert", str(DAGS), "-o", str(tmp_path / name), "-q").exit_code == EXIT_REFUSED
    for produced in sorted((tmp_path / "a").iterdir()):
        assert produced.read_bytes() == (tmp_path / "b" / produced.name).read_bytes(), produced.name


def test_bad_files_each_get_one_line_and_do_not_stop_the_batch(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "good.py").write_text(GOOD, encoding="utf-8")
    (dags / "syntax.py").write_text("from airflow import DAG\nwith DAG('x') as dag\n    pass\n", encoding="utf-8")
    (dags / "latin.py").write_bytes(b"from airflow import DAG\nNAME = 'caf\xe9'\n")
    (dags / "empty.py").write_bytes(b"")
    (dags / "binary.py").write_bytes(b"DAG\x00\x01\x02")
    out = tmp_path / "out"
    result = run("convert", str(dags), "-o", str(out))
    assert result.exit_code == EXIT_REFUSED, result.output  # the good DAG converted; bad files are errors (issue 16)
    lines = result.output.splitlines()
    assert any(l.startswith(f"{dags / 'syntax.py'}:2:") and "DC101" in l for l in lines), result.output
    assert any(l.startswith(f"{dags / 'latin.py'}:2:") and "DC102" in l for l in lines), result.output
    assert any(l.startswith(f"{dags / 'empty.py'}:0:0: DC103") for l in lines), result.output
    assert any(l.startswith(f"{dags / 'binary.py'}:1:1: DC106") for l in lines), result.output
    assert sorted(p.name for p in out.glob("*.yaml")) == ["s3_list_and_write.yaml"]
    report = json.loads((out / "conversion-report.json").read_text(encoding="utf-8"))
    statuses = {Path(f["path"]).name: f["status"] for f in report["files"]}
    assert statuses == {"binary.py": "unreadable", "empty.py": "no-dags", "good.py": "converted",
                        "latin.py": "unreadable", "syntax.py": "unreadable"}


def test_a_file_that_vanishes_is_reported_not_raised(tmp_path: Path) -> None:
    gone = tmp_path / "gone.py"
    result = convert_sources([local_source(gone, str(gone), "gone.py")], Options())[0]
    assert result.status == "unreadable"
    assert [d.code for d in result.diagnostics] == ["DC104"]


def test_folder_without_dags_exits_2(tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "util.py").write_text("X = 1\n", encoding="utf-8")
    result = run("convert", str(tmp_path / "dags"), "-o", str(tmp_path / "out"))
    assert result.exit_code == EXIT_USAGE
    assert "no DAGs found" in result.output


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = run("convert", str(tmp_path / "nope"), "-o", str(tmp_path / "out"))
    assert result.exit_code == EXIT_USAGE
    assert "DC109" in result.output and "no such file or folder" in result.output


def test_airflowignore_and_non_dag_files_are_skipped(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    (dags / "legacy").mkdir(parents=True)
    shutil.copy(DAGS / "s3_list_and_write.py", dags / "keep.py")
    shutil.copy(DAGS / "multiple_dags.py", dags / "legacy" / "old.py")
    (dags / ".airflowignore").write_text("# old stuff\nlegacy/\n", encoding="utf-8")
    (dags / "plain.py").write_text("X = 1\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run("convert", str(dags), "-o", str(out)).exit_code == EXIT_OK
    report = json.loads((out / "conversion-report.json").read_text(encoding="utf-8"))
    assert {Path(f["path"]).name: f["status"] for f in report["files"]} == {"keep.py": "converted", "plain.py": "skipped"}


def test_allow_operator_accepts_a_class(tmp_path: Path) -> None:
    path = str(DAGS / "refused_bash_operator.py")
    assert run("convert", path, "-o", str(tmp_path)).exit_code == EXIT_REFUSED
    allowed = run("convert", path, "-o", str(tmp_path), "--allow-operator", "airflow.providers.standard.operators.bash.*")
    assert allowed.exit_code == EXIT_OK, allowed.output
    assert "BashOperator" in (tmp_path / "refused_bash_operator.yaml").read_text(encoding="utf-8")


def test_duplicate_dag_ids_refuse_both(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "one.py").write_text(GOOD, encoding="utf-8")
    (dags / "two.py").write_text(GOOD, encoding="utf-8")
    result = run("convert", str(dags), "-o", str(tmp_path / "out"))
    assert result.exit_code == EXIT_REFUSED
    assert result.output.count("DC110") == 2
    assert not list((tmp_path / "out").glob("*.yaml"))


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and "dag-converter" in result.output


def test_empty_package_init_is_not_a_warning(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    (dags / "pkg").mkdir(parents=True)
    (dags / "pkg" / "__init__.py").write_bytes(b"")
    (dags / "good.py").write_text(GOOD, encoding="utf-8")
    result = run("convert", str(dags), "-o", str(tmp_path / "out"))
    assert result.exit_code == EXIT_OK
    assert "DC103" not in result.output
