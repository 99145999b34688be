"""convert --check, --diff, --fail-on-change, --report-format and pyproject settings, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dag_converter.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main

DAG = '''\
import pendulum

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="etl", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    EmptyOperator(task_id="{first}") >> EmptyOperator(task_id="end")
'''
REFUSED = '''\
import pendulum

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="shell", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    BashOperator(task_id="run", bash_command="true")
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "etl.py").write_text(DAG.format(first="start"), encoding="utf-8")
    return tmp_path


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["convert", *args])


def test_check_lists_missing_yaml_and_writes_nothing(project: Path) -> None:
    result = _run("--check", "dags", "-o", "yaml")
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "dags/etl.py:6:6: DC115 [error] yaml/etl.yaml does not exist for DAG etl" in result.output
    assert not (project / "yaml").exists()
    assert "\x1b[" not in result.output


def test_check_passes_when_current_then_flags_stale(project: Path) -> None:
    assert _run("dags", "-o", "yaml").exit_code == EXIT_OK
    report = (project / "yaml" / "conversion-report.json").read_text(encoding="utf-8")
    assert _run("--check", "dags", "-o", "yaml").exit_code == EXIT_OK

    (project / "dags" / "etl.py").write_text(DAG.format(first="begin"), encoding="utf-8")
    result = _run("--check", "dags", "-o", "yaml")
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "dags/etl.py:6:6: DC114 [error] yaml/etl.yaml is out of date with DAG etl" in result.output
    assert (project / "yaml" / "conversion-report.json").read_text(encoding="utf-8") == report


def test_check_reports_refused_dags(project: Path) -> None:
    (project / "dags" / "shell.py").write_text(REFUSED, encoding="utf-8")
    assert _run("dags", "-o", "yaml").exit_code == EXIT_REFUSED
    result = _run("--check", "dags", "-o", "yaml")
    assert result.exit_code == EXIT_REFUSED
    assert "dags/shell.py:7:5: DC301" in result.output
    assert "DC114" not in result.output and "DC115" not in result.output


def test_diff_prints_a_patch_to_stdout_and_writes_nothing(project: Path) -> None:
    assert _run("dags", "-o", "yaml").exit_code == EXIT_OK
    before = (project / "yaml" / "etl.yaml").read_text(encoding="utf-8")
    (project / "dags" / "etl.py").write_text(DAG.format(first="begin"), encoding="utf-8")
    # The diff is printed before any message, so this holds also on click 8.1, whose runner mixes stderr in.
    result = _run("--diff", "dags", "-o", "yaml")
    assert result.exit_code == EXIT_REFUSED
    assert result.stdout.startswith("--- yaml/etl.yaml\n+++ yaml/etl.yaml\n")
    assert "-    start:\n" in result.stdout and "+    begin:\n" in result.stdout
    assert (project / "yaml" / "etl.yaml").read_text(encoding="utf-8") == before


def test_fail_on_change_writes_then_passes(project: Path) -> None:
    first = _run("--fail-on-change", "--report-format", "none", "dags/etl.py", "-o", "yaml")
    assert first.exit_code == EXIT_REFUSED, first.output
    assert "yaml/etl.yaml: created from dags/etl.py" in first.output
    assert (project / "yaml" / "etl.yaml").is_file()
    assert not (project / "yaml" / "conversion-report.json").exists()
    second = _run("--fail-on-change", "--report-format", "none", "dags/etl.py", "-o", "yaml")
    assert second.exit_code == EXIT_OK, second.output


def test_file_without_dags_passes_the_hook_modes(project: Path) -> None:
    (project / "dags" / "helpers.py").write_text("VALUE = 1\n", encoding="utf-8")
    assert _run("--check", "dags/helpers.py").exit_code == EXIT_OK
    assert _run("dags/helpers.py").exit_code == EXIT_USAGE  # plain convert keeps its meaning


def test_pyproject_settings_apply_and_flags_win(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.dag-converter]\noutput = "generated"\nexclude = ["dags/legacy"]\n'
        'report-format = ["json", "sarif", "html"]\n', encoding="utf-8")
    (project / "dags" / "legacy").mkdir()
    (project / "dags" / "legacy" / "shell.py").write_text(REFUSED, encoding="utf-8")
    result = _run("dags")
    assert result.exit_code == EXIT_OK, result.output
    written = sorted(p.name for p in (project / "generated").iterdir())
    assert written == ["conversion-manifest.json", "conversion-report.html", "conversion-report.json",
                       "conversion-report.sarif", "etl.yaml"]
    report = json.loads((project / "generated" / "conversion-report.json").read_text(encoding="utf-8"))
    assert [f["path"] for f in report["files"]] == [str(Path("dags") / "etl.py")]

    result = _run("dags", "--output", "elsewhere", "--report-format", "md")
    assert result.exit_code == EXIT_OK, result.output
    assert sorted(p.name for p in (project / "elsewhere").iterdir()) == ["conversion-manifest.json", "conversion-report.md",
                                                                   "etl.yaml"]


def test_bad_config_exits_with_usage(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.dag-converter]\noutptu = "x"\n', encoding="utf-8")
    result = _run("dags")
    assert result.exit_code == EXIT_USAGE
    assert "unknown key(s) in [tool.dag-converter]: outptu" in result.output


def test_unknown_report_format_exits_with_usage(project: Path) -> None:
    result = _run("dags", "--report-format", "json,pdf")
    assert result.exit_code == EXIT_USAGE
    assert "unknown report format(s) pdf" in result.output


def test_unknown_target_in_config_exits_with_usage(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.dag-converter]\ntarget = "airflow-4"\n', encoding="utf-8")
    result = _run("dags")
    assert result.exit_code == EXIT_USAGE
    assert f"error: {project / 'pyproject.toml'}: unknown target 'airflow-4'" in result.output
    assert not (project / "output_yaml").exists()


def test_verify_on_s3_sources_exits_with_usage(project: Path) -> None:
    result = _run("--verify", "s3://bucket/dags", "-o", "yaml")
    assert result.exit_code == EXIT_USAGE
    assert "error: --verify needs local DAG files" in result.output


def test_check_of_a_helper_module_checks_the_dags_that_read_it(project: Path) -> None:
    dags = project / "dags"
    (dags / "names.py").write_text('FIRST = "start"\n', encoding="utf-8")
    (dags / "etl.py").write_text(DAG.format(first="start").replace('task_id="start"', "task_id=FIRST")
                                 .replace("from airflow.sdk import DAG", "from airflow.sdk import DAG\nfrom names import FIRST"),
                                 encoding="utf-8")
    assert CliRunner().invoke(main, ["convert", "dags", "-o", "out"]).exit_code == EXIT_OK
    manifest = json.loads((project / "out" / "conversion-manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["sources"]["dags/etl.py"]["reads"]) == {"names.py"}
    assert CliRunner().invoke(main, ["convert", "dags/names.py", "-o", "out", "--check"]).exit_code == EXIT_OK
    (dags / "names.py").write_text('FIRST = "begin"\n', encoding="utf-8")
    stale = CliRunner().invoke(main, ["convert", "dags/names.py", "-o", "out", "--check"])
    assert stale.exit_code == EXIT_REFUSED
    assert "dags/etl.py:7:6: DC114 [error] out/etl.yaml is out of date with DAG etl" in stale.output
