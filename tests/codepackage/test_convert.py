"""`convert --code-package`: the fixtures convert, verify, write byte-identical zips; without the
flag the refusals say the package would carry them."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from codepackage._support import CASES
from dag_converter.cli import EXIT_OK, EXIT_REFUSED, main

CONVERTED = {  # case -> (dag_id, files in its package)
    "python_helper": ("etl_python", ["etl_python_tasks.py", "helpers/__init__.py", "helpers/cleaning.py",
                                     "helpers/text.py"]),
    "bash_script": ("bash_etl", ["scripts/load.sh", "scripts/run.bash"]),
    "taskflow": ("taskflow_etl", ["taskflow_etl_tasks.py"]),
    "custom_operator": ("greet", ["operators/__init__.py", "operators/formatting.py", "operators/greeting.py"]),
    "sql_http": ("reporting", ["clients/__init__.py", "clients/feed.py", "sql/daily_report.sql"]),
}
needs_verify = pytest.mark.skipif(
    importlib.util.find_spec("airflow") is None or importlib.util.find_spec("dagfactory") is None,
    reason="needs the verify extra (Airflow + dag-factory)",
)


def convert(case: str, out: Path, *flags: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["convert", str(CASES / case), "-o", str(out), *flags])
    return result.exit_code, result.output


@pytest.mark.parametrize("case", sorted(CONVERTED))
def test_fixture_converts_with_its_package_and_the_zip_is_byte_identical(case: str, tmp_path: Path) -> None:
    dag_id, files = CONVERTED[case]
    code, output = convert(case, tmp_path / "a", "--code-package", "--report-format", "json,md,html")
    assert code == EXIT_OK, output
    zip_bytes = (tmp_path / "a" / f"{dag_id}.code.zip").read_bytes()
    assert sorted(zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist()) == files
    text = (tmp_path / "a" / f"{dag_id}.yaml").read_text()
    assert f"# Its tasks run code from the code package {dag_id}.code.zip" in text
    report = json.loads((tmp_path / "a" / "conversion-report.json").read_text())
    entry = next(d for f in report["files"] for d in f["dags"] if d["dag_id"] == dag_id)
    assert [f["path"] for f in entry["code_package"]["files"]] == sorted(files)
    assert all(f["reason"] for f in entry["code_package"]["files"])
    manifest = json.loads((tmp_path / "a" / "conversion-manifest.json").read_text())
    assert any(f"{dag_id}.code.zip" in s["outputs"] for s in manifest["sources"].values())
    assert f"`{dag_id}.code.zip`" in (tmp_path / "a" / "conversion-report.md").read_text()
    html = (tmp_path / "a" / "conversion-report.html").read_text()
    assert f"Code package <code>{dag_id}.code.zip</code>" in html and f"<code>{files[0]}</code>" in html
    again, output = convert(case, tmp_path / "b", "--code-package")
    assert again == EXIT_OK, output
    assert (tmp_path / "b" / f"{dag_id}.code.zip").read_bytes() == zip_bytes


def test_yaml_names_the_packaged_code(tmp_path: Path) -> None:
    for case in ("python_helper", "taskflow", "custom_operator"):
        assert convert(case, tmp_path / case, "--code-package")[0] == EXIT_OK
    python = (tmp_path / "python_helper" / "etl_python.yaml").read_text()
    assert "python_callable: etl_python_tasks.transform_rows" in python
    assert "python_callable: helpers.cleaning.summarize" in python
    taskflow = (tmp_path / "taskflow" / "taskflow_etl.yaml").read_text()
    assert taskflow.count("decorator: airflow.sdk.task") == 3
    assert "python_callable: taskflow_etl_tasks.transform" in taskflow and "data: +extract" in taskflow
    assert "operator: operators.greeting.GreetingOperator" in (tmp_path / "custom_operator" / "greet.yaml").read_text()


def test_what_cannot_be_shipped_is_refused_at_its_line(tmp_path: Path) -> None:
    code, output = convert("refused", tmp_path, "--code-package")
    assert code == EXIT_REFUSED
    for expected in ("refused_etl.py:16:20: DC343", "refused_etl.py:20:5: DC341", "refused_etl.py:27:12: DC345",
                     "refused_etl.py:31:38: DC340", "refused_etl.py:42:5: DC341"):
        assert expected in output
    assert "DC312" not in output  # the package's own findings say it; no repeat from the target
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob("*.yaml"))


def test_without_the_flag_the_refusals_point_at_it(tmp_path: Path) -> None:
    for case in ("python_helper", "taskflow", "sql_http", "bash_script"):
        code, output = convert(case, tmp_path / case)
        assert code == EXIT_REFUSED
        lines = output.splitlines()
        # the hint under each refusal (a warning, such as DC316 on an inlined script's $NAME, has its own)
        hints = [hint for line, hint in zip(lines, lines[1:]) if "[error]" in line and hint.strip().startswith("hint:")]
        assert hints and all("--code-package" in h for h in hints), output
        assert not list((tmp_path / case).glob("*.zip"))


def test_config_key_selects_the_package_and_check_sees_a_stale_zip(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "dags").mkdir(parents=True)
    for source in (CASES / "python_helper").rglob("*.py"):
        target = project / "dags" / source.relative_to(CASES / "python_helper")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    (project / "pyproject.toml").write_text('[tool.dag-converter]\ncode-package = true\noutput = "out"\n')
    runner = CliRunner()
    first = runner.invoke(main, ["convert", str(project / "dags"), "--config", str(project / "pyproject.toml")])
    assert first.exit_code == EXIT_OK, first.output
    package = project / "out" / "etl_python.code.zip"
    assert package.is_file()
    check = runner.invoke(main, ["convert", str(project / "dags"), "--config", str(project / "pyproject.toml"), "--check"])
    assert check.exit_code == EXIT_OK, check.output
    package.write_bytes(b"not the package")
    stale = runner.invoke(main, ["convert", str(project / "dags"), "--config", str(project / "pyproject.toml"), "--check"])
    assert stale.exit_code != EXIT_OK and "etl_python.code.zip" in stale.output


def test_code_package_is_for_mwaa_serverless_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(CASES / "taskflow"), "-o", str(tmp_path), "--code-package",
                                       "--target", "dag-factory"])
    assert result.exit_code != EXIT_OK and "--code-package is for the mwaa-serverless target" in result.output


@needs_verify
@pytest.mark.parametrize("case", sorted(CONVERTED))
def test_fixture_passes_convert_verify(case: str, tmp_path: Path) -> None:
    code, output = convert(case, tmp_path, "--code-package", "--verify")
    assert code == EXIT_OK, output
    assert "DC902" not in output and "DC903" not in output


@needs_verify
def test_verify_compares_each_callable_by_its_code(tmp_path: Path) -> None:
    """A package whose function does something else fails verify: the same name is not enough."""
    assert convert("taskflow", tmp_path, "--code-package")[0] == EXIT_OK
    ok = CliRunner().invoke(main, ["verify", str(CASES / "taskflow" / "taskflow_etl.py"),
                                   str(tmp_path / "taskflow_etl.yaml")])
    assert ok.exit_code == EXIT_OK, ok.output
    package = tmp_path / "taskflow_etl.code.zip"
    archive = zipfile.ZipFile(io.BytesIO(package.read_bytes()))
    module = archive.read("taskflow_etl_tasks.py").decode().replace('"big": n > THRESHOLD', '"big": n >= THRESHOLD')
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w") as changed:
        changed.writestr("taskflow_etl_tasks.py", module)
    package.write_bytes(rebuilt.getvalue())
    bad = CliRunner().invoke(main, ["verify", str(CASES / "taskflow" / "taskflow_etl.py"),
                                    str(tmp_path / "taskflow_etl.yaml")])
    assert bad.exit_code == EXIT_REFUSED
    assert "task 'transform': python_callable differs" in bad.output


@needs_verify
def test_verify_renders_template_files_from_the_package(tmp_path: Path) -> None:
    """The YAML's `sql: sql/daily_report.sql` renders from the package; a source file changed since
    the conversion renders otherwise and fails verify."""
    assert convert("sql_http", tmp_path / "out", "--code-package")[0] == EXIT_OK
    source = tmp_path / "source"
    shutil.copytree(CASES / "sql_http", source)
    args = ["verify", str(source / "reporting.py"), str(tmp_path / "out" / "reporting.yaml")]
    ok = CliRunner().invoke(main, args)
    assert ok.exit_code == EXIT_OK, ok.output
    sql = source / "sql" / "daily_report.sql"
    sql.write_text(sql.read_text().replace("{{ ds }}", "{{ ds_nodash }}"))
    bad = CliRunner().invoke(main, args)
    assert bad.exit_code == EXIT_REFUSED
    assert ("dag 'reporting' task 'report': sql (rendered template file) differs: python line 1: "
            "'SELECT day, count(*) FROM orders WHERE day = 20250102 GROUP BY day;' vs yaml line 1: "
            "'SELECT day, count(*) FROM orders WHERE day = 2025-01-02 GROUP BY day;'") in bad.output
