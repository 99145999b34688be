"""conversion-report.sarif: SARIF 2.1.0, so GitHub code scanning shows the diagnostics inline.

One rule per diagnostic code, documented with the same summary/why/fix text docs/diagnostics.md
is generated from; one result per diagnostic. SARIF regions are 1-based like our spans; a
file-level diagnostic (line 0) gets a location without a region, which the schema allows
(`startLine` has minimum 1, so writing 0 would be invalid).
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from dag_converter import __version__
from dag_converter.codes import Code, documented_codes
from dag_converter.report.concise import message_with_hint
from dag_converter.model import Diagnostic, Severity
from dag_converter.report._model import RunReport

SARIF_SCHEMA = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_help(code: Code) -> tuple[str, str]:
    """(plain text, Markdown) help for a code, with docs/diagnostics.md's headings."""
    text = f"{code.summary}\n\nWhy: {code.why}\n\nFix: {code.fix}"
    markdown = f"**What it flags**: {code.summary}\n\n**Why**: {code.why}\n\n**Fix**: {code.fix}"
    return text, markdown


def _rule(code: Code) -> dict[str, object]:
    text, markdown = rule_help(code)
    return {
        "id": code.code,
        "name": code.name,
        "shortDescription": {"text": code.summary},
        "fullDescription": {"text": code.why},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": _LEVELS[code.severity]},
        "properties": {"tags": [code.name]},
    }


def artifact_uri(path: str) -> str:
    """A SARIF artifact URI for a path as the user gave it: relative paths stay relative (GitHub
    resolves them against the repository root), absolute ones become file: URIs."""
    if "://" in path:
        return path  # s3://bucket/key is already a URI
    if PureWindowsPath(path).drive:  # pragma: no cover - Windows paths
        return PureWindowsPath(path).as_uri()
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return posix.as_uri()
    return quote(str(posix).removeprefix("./"), safe="/")


def _result(diagnostic: Diagnostic, rule_index: dict[str, int]) -> dict[str, object]:
    span = diagnostic.span
    physical: dict[str, object] = {"artifactLocation": {"uri": artifact_uri(span.path)}}
    if span.line > 0:
        region: dict[str, int] = {"startLine": span.line}
        if span.column > 0:
            region["startColumn"] = span.column
        physical["region"] = region
    message = message_with_hint(diagnostic)
    result: dict[str, object] = {
        "ruleId": diagnostic.code,
        "level": _LEVELS[diagnostic.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": physical}],
    }
    if diagnostic.code in rule_index:
        result["ruleIndex"] = rule_index[diagnostic.code]
    return result


def sarif_dict(report: RunReport) -> dict[str, object]:
    rules = [_rule(code) for code in documented_codes()]
    rule_index = {rule["id"]: i for i, rule in enumerate(rules) if isinstance(rule["id"], str)}
    diagnostics = sorted(report.all_diagnostics(), key=Diagnostic.sort_key)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "dag-converter",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }},
            # libcst columns count characters (code points), not UTF-16 units or bytes.
            "columnKind": "unicodeCodePoints",
            "properties": {"target": report.target},
            "results": [_result(d, rule_index) for d in diagnostics],
        }],
    }


def render_sarif(report: RunReport) -> str:
    return json.dumps(sarif_dict(report), indent=2, ensure_ascii=False) + "\n"


__all__ = ["SARIF_SCHEMA", "artifact_uri", "render_sarif", "rule_help", "sarif_dict"]
