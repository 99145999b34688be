"""conversion-report.json: stable keys and order, so the same run gives the same bytes."""

from __future__ import annotations

import json

from dag_converter.report._model import RunReport, report_dict


def render_json(report: RunReport) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
