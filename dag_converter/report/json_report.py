"""conversion-report.json: stable keys and order, so the same run gives the same bytes."""

from __future__ import annotations

import json

from dag_converter.report._model import RunReport, report_dict


def render_json(report: RunReport) -> str:
    """The report with its top level indented and one line per source file: compact entries let
    json use its C encoder (an indented dump runs the pure-Python one, a large share of a big
    run), and one line per file keeps diffs of the report readable."""
    document = report_dict(report)
    files = document.pop("files")
    head = json.dumps({**document, "files": []}, indent=2, ensure_ascii=False)
    if not files:
        return head + "\n"
    lines = ",\n".join("    " + json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) for entry in files)  # type: ignore[union-attr]
    return head[: -len("[]\n}")] + "[\n" + lines + "\n  ]\n}\n"
