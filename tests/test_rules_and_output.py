"""Rule selection (--select/--ignore/--extend-ignore, per-file-ignores, inline ignores,
--exit-zero, --statistics) and the machine output formats (--output-format), through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from dag_converter.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from dag_converter.model import Diagnostic, Severity, Span
from dag_converter.report.output import github_annotation, json_schema

SCHEDULED = '''\
import pendulum

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="daily", schedule="@daily", start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):{comment}
    EmptyOperator(task_id="start")
'''
REFUSED = '''\
import pendulum

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

with DAG(dag_id="crunch", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    PythonOperator(task_id="crunch", python_callable=print)
'''


def _folder(tmp_path: Path, comment: str = "", *, refused: bool = False) -> Path:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "daily.py").write_text(SCHEDULED.format(comment=comment), encoding="utf-8")
    if refused:
        (dags / "crunch.py").write_text(REFUSED, encoding="utf-8")
    return dags


def _run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["convert", *args, "-o", str(tmp_path / "out"), "--report-format", "none",
                                       "--config", str(_config(tmp_path))])
    return result.exit_code, result.stdout, result.stderr


def _config(tmp_path: Path, table: str = "") -> Path:
    path = tmp_path / "pyproject.toml"
    if not path.exists() or table:
        path.write_text(f"[tool.dag-converter]\n{table}", encoding="utf-8")
    return path


def test_a_warning_is_shown_by_default(tmp_path: Path) -> None:
    dags = _folder(tmp_path)
    code, _, err = _run(tmp_path, str(dags))
    assert code == EXIT_OK
    assert "DC406 [warning]" in err


@pytest.mark.parametrize("flags", [["--ignore", "DC406"], ["--ignore", "DC4"], ["--extend-ignore", "DC40"],
                                   ["--select", "DC3"], ["--ignore", "DC999,DC406"]], ids=" ".join)
def test_ignore_and_select_by_code_or_prefix_hide_a_warning(tmp_path: Path, flags: list[str]) -> None:
    dags = _folder(tmp_path)
    code, _, err = _run(tmp_path, str(dags), *flags)
    assert code == EXIT_OK, err
    assert "DC406" not in err


def test_select_keeps_the_selected_warning(tmp_path: Path) -> None:
    dags = _folder(tmp_path)
    _, _, err = _run(tmp_path, str(dags), "--select", "DC406")
    assert "DC406 [warning]" in err


def test_errors_stay_whatever_is_selected_and_cannot_be_ignored(tmp_path: Path) -> None:
    dags = _folder(tmp_path, refused=True)
    code, _, err = _run(tmp_path, str(dags), "--select", "DC4", "--ignore", "DC3")
    assert code == EXIT_REFUSED  # a prefix leaves errors in place: crunch is still refused
    assert "DC301 [error]" in err
    code, _, err = _run(tmp_path, str(dags), "--ignore", "DC301")
    assert code == EXIT_USAGE
    assert "DC301 is an error and refuses its DAG; it cannot be ignored" in err


def test_malformed_selector_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _run(tmp_path, str(_folder(tmp_path)), "--select", "E501")
    assert code == EXIT_USAGE
    assert "'E501' is not a diagnostic code or prefix" in err


def test_per_file_ignores_and_ignore_from_the_config(tmp_path: Path) -> None:
    dags = _folder(tmp_path)
    _config(tmp_path, '[tool.dag-converter.per-file-ignores]\n"dags/daily.py" = ["DC406"]\n')
    assert "DC406" not in _run(tmp_path, str(dags))[2]
    _config(tmp_path, '[tool.dag-converter.per-file-ignores]\n"other.py" = ["DC406"]\n')
    assert "DC406" in _run(tmp_path, str(dags))[2]
    _config(tmp_path, 'ignore = ["DC406"]\n')
    assert "DC406" not in _run(tmp_path, str(dags))[2]
    _config(tmp_path, '[tool.dag-converter.per-file-ignores]\n"*.py" = ["DC301"]\n')
    code, _, err = _run(tmp_path, str(dags))
    assert code == EXIT_USAGE and "DC301 is an error" in err


def test_inline_ignore_on_the_diagnostics_line(tmp_path: Path) -> None:
    dags = _folder(tmp_path, "  # dag-converter: ignore[DC406]")
    code, _, err = _run(tmp_path, str(dags))
    assert code == EXIT_OK, err
    assert "DC406" not in err and "DC117" not in err


def test_unused_and_error_inline_ignores_are_reported(tmp_path: Path) -> None:
    dags = _folder(tmp_path, "  # dag-converter: ignore[DC403, DC301]")
    _, _, err = _run(tmp_path, str(dags))
    assert "daily.py:6:1: DC117 [warning] `# dag-converter: ignore[DC403]` matches no warning or info on this line" \
        in err
    assert "DC117 [warning] `# dag-converter: ignore[DC301]` names an error" in err
    assert "DC406 [warning]" in err  # not named, so still shown


def test_exit_zero(tmp_path: Path) -> None:
    dags = _folder(tmp_path, refused=True)
    assert _run(tmp_path, str(dags))[0] == EXIT_REFUSED
    code, _, err = _run(tmp_path, str(dags), "--exit-zero")
    assert code == EXIT_OK
    assert "DC301 [error]" in err


def test_statistics_counts_per_code_on_stdout(tmp_path: Path) -> None:
    dags = _folder(tmp_path, refused=True)
    (dags / "daily2.py").write_text(SCHEDULED.format(comment="").replace('"daily"', '"daily2"'), encoding="utf-8")
    _, out, err = _run(tmp_path, str(dags), "--statistics")
    assert out.splitlines() == ["2\tDC406\t[warning] past-start-date", "1\tDC201\t[error] unresolved-value",
                                "1\tDC301\t[error] unsupported-operator"]
    assert "DC406" not in err  # the diagnostics themselves are replaced by the counts


def test_output_format_concise_and_full(tmp_path: Path) -> None:
    dags = _folder(tmp_path, refused=True)
    _, out, err = _run(tmp_path, str(dags), "--output-format", "concise")
    lines = out.splitlines()
    assert any(re.fullmatch(r".*crunch\.py:7:5: DC301 \[error\] .+", line) for line in lines), out
    assert not any(line.startswith("    hint:") for line in lines)
    assert "DC301" not in err and "refused" in err  # the summary stays on stderr
    _, out, _ = _run(tmp_path, str(dags), "--output-format", "full")
    assert "\n    hint: " in out


def test_output_format_json_matches_the_shipped_schema(tmp_path: Path) -> None:
    dags = _folder(tmp_path, refused=True)
    _, out, _ = _run(tmp_path, str(dags), "--output-format", "json")
    document = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(json_schema())
    jsonschema.validate(document, json_schema(), cls=jsonschema.Draft202012Validator)
    codes = {(d["code"], d["severity"], d["name"]) for d in document}
    assert ("DC301", "error", "unsupported-operator") in codes and ("DC406", "warning", "past-start-date") in codes
    crunch = next(d for d in document if d["code"] == "DC301")
    assert crunch["location"] == {"row": 7, "column": 5} and crunch["filename"].endswith("crunch.py")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**crunch, "severity": "fatal"}], json_schema())


def test_output_format_github_annotations(tmp_path: Path) -> None:
    dags = _folder(tmp_path, refused=True)
    _, out, _ = _run(tmp_path, str(dags), "--output-format", "github")
    crunch = next(line for line in out.splitlines() if "DC301" in line)
    file = str(dags / "crunch.py").replace(":", "%3A").replace(",", "%2C")
    assert re.fullmatch(rf"::error file={re.escape(file)},line=7,col=5,title=DC301::[^\n]+%0Ahint: .+", crunch), crunch
    assert any(line.startswith("::warning file=") and "title=DC406::" in line for line in out.splitlines())


def test_github_annotation_escapes_properties_and_message() -> None:
    diagnostic = Diagnostic("DC301", Severity.ERROR, "50% done\r\nnext: a, b", Span("dags/a:b,c%.py", 3, 7),
                            "fix it")
    assert github_annotation(diagnostic) == (
        "::error file=dags/a%3Ab%2Cc%25.py,line=3,col=7,title=DC301::50%25 done%0D%0Anext: a, b%0Ahint: fix it")
    info = Diagnostic("DC105", Severity.INFO, "no DAG", Span("x.py"))
    assert github_annotation(info) == "::notice file=x.py,title=DC105::no DAG"


def test_output_format_sarif_holds_every_shown_diagnostic(tmp_path: Path) -> None:
    dags = _folder(tmp_path, refused=True)
    _, out, _ = _run(tmp_path, str(dags), "--output-format", "sarif", "--ignore", "DC406")
    sarif = json.loads(out)
    results = sarif["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["DC201", "DC301"]


def test_check_orphans_and_stale_yaml_appear_in_machine_output(tmp_path: Path) -> None:
    dags = _folder(tmp_path)
    assert _run(tmp_path, str(dags))[0] == EXIT_OK
    (dags / "daily.py").unlink()
    (dags / "weekly.py").write_text(SCHEDULED.format(comment="").replace('"daily"', '"weekly"'), encoding="utf-8")
    code, out, _ = _run(tmp_path, str(dags), "--check", "--output-format", "json")
    assert code == EXIT_REFUSED
    assert sorted(d["code"] for d in json.loads(out) if d["severity"] == "error") == ["DC115", "DC116"]


@pytest.mark.parametrize("flag", ["--no-validate", "--debug"])
def test_aws_converter_flags_are_accepted(tmp_path: Path, flag: str) -> None:
    dags = _folder(tmp_path)
    code, _, err = _run(tmp_path, str(dags), flag)
    assert code == EXIT_OK, err
    if flag == "--no-validate":
        assert "--no-validate (from the AWS converter) changes nothing" in err


def test_path_typo_is_one_line_with_did_you_mean_and_no_output_folder(tmp_path: Path, monkeypatch:
                                                                     pytest.MonkeyPatch) -> None:
    _folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["convert", "dagz", "-o", "out"])
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == "dagz: DC109 [error] no such file or folder: dagz (did you mean dags?)\n"
    assert not (tmp_path / "out").exists()
    nested = CliRunner().invoke(main, ["convert", "dags/dayly.py", "-o", "out"])
    assert "(did you mean dags/daily.py?)" in nested.stderr
    far = CliRunner().invoke(main, ["convert", "zzzz", "-o", "out"])
    assert far.stderr == "zzzz: DC109 [error] no such file or folder: zzzz\n"


def test_the_cli_offers_exactly_the_formats_the_renderer_knows() -> None:
    from dag_converter import cli
    from dag_converter.report import output

    assert cli.OUTPUT_FORMATS == output.OUTPUT_FORMATS  # cli keeps its own copy to start without the renderer
