"""docs/operators.md and the `operators` listing come from the registry."""

from __future__ import annotations

import json

from dag_converter.registry import get_registry
from dag_converter.targets import get_target
from dag_converter.registry._render import (
    ALLOWED,
    ALLOWED_WITH_WARNING,
    render_operators,
    render_operators_markdown,
)

from ._support import ROOT


def test_docs_operators_md_is_current(snapshot) -> None:
    """Fails when docs/operators.md is stale; `pytest --snapshot-update` rewrites it."""
    snapshot.snapshot_dir = ROOT / "docs"
    snapshot.assert_match(render_operators_markdown(get_target("mwaa-serverless")), "operators.md")


def test_operators_json_statuses() -> None:
    payload = json.loads(render_operators(get_target("mwaa-serverless"), as_json=True))
    entries = {e["class_path"]: e for group in payload["services"].values() for e in group}
    assert len(entries) == len(get_registry().rules)
    s3 = entries["airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator"]
    assert s3["status"] == ALLOWED
    # In the provider, not in the documented allowlist (TARGET.md §1.7): a warning, not an error.
    ses = entries["airflow.providers.amazon.aws.operators.ses.SesEmailOperator"]
    assert ses["status"] == ALLOWED_WITH_WARNING


def test_operators_text_groups_by_service() -> None:
    text = render_operators(get_target("mwaa-serverless"), as_json=False)
    assert "\ns3:\n" in text and "S3CreateObjectOperator" in text
    assert ALLOWED_WITH_WARNING not in render_operators(get_target("dag-factory"), as_json=False)
