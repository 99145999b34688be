"""YAML safety: what the emitter writes reads back, with yaml.safe_load and with dag-factory's
yaml.FullLoader, as exactly the data it was given; no tag is ever emitted."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dag_converter.emit import render_yaml, workflow_document
from dag_converter.model import Argument, Duration, Span, Task, Workflow
from dag_converter.pipeline import convert_source

from ._support import OPTIONS

SPAN = Span("t.py", 1, 1)
TRICKY = ["yes", "no", "on", "off", "Yes", "NO", "y", "n", "true", "False", "null", "Null", "~", "", " ",
          "1e3", "1_000", "0x1F", "0o17", "017", "+1", ".5", "1.", ".inf", "-.inf", ".nan", "NaN", "2025-01-01",
          "2025-01-01 10:00:00", "12:30:00", "1:30", "*alias", "&anchor", "!tag", "!!python/object:os.system",
          "%YAML", "@daily", "`cmd`", "{a: 1}", "[1, 2]", "key: value", "a #comment", "#comment", "- item",
          "? key", "|", ">", "'quoted'", '"dq"', "trailing ", " leading", "multi\nline", "tab\tchar",
          "line\n", "\n", "crlf\r\nline", "\x85next", "\u2028sep", "\ufeffbom", "\x00nul", "\x07bell", "\ud800lone", "\x1b[31m", "é✓𝔘",
          "<<", "=", "0", "-", "---", "...", "$HOME", "${VAR}"]

# Everything a DAG value can be once the validator has normalised it.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(), st.text(st.characters(codec=None, blacklist_categories=())), st.sampled_from(TRICKY),
    st.builds(Duration, st.one_of(st.integers(0, 10**9).map(float), st.floats(0, 1e9, allow_nan=False))),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(TRICKY)), inner, max_size=4),
), max_leaves=12)
names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)


def _plain(value: object) -> object:
    """What the YAML should read back as: Durations as dag-factory's timedelta mapping."""
    if isinstance(value, Duration):
        return {"__type__": "datetime.timedelta", "seconds": value.exact_seconds}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _workflow(arguments: dict[str, object], task_arguments: dict[str, object]) -> Workflow:
    task = Task("t1", "airflow.providers.amazon.aws.operators.s3.S3ListOperator", SPAN,
                tuple(Argument(k, v, SPAN) for k, v in task_arguments.items()))
    return Workflow("dag", SPAN, tuple(Argument(k, v, SPAN) for k, v in arguments.items()), (task,))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(names, values, max_size=4), st.dictionaries(names, values, max_size=4))
def test_emitted_yaml_reads_back_as_the_same_data(dag_args: dict[str, object], task_args: dict[str, object]) -> None:
    workflow = _workflow(dag_args, task_args)
    text = render_yaml(workflow, "t.py")
    expected = _plain(workflow_document(workflow))

    tokens = {type(token) for token in yaml.scan(text)}
    assert not tokens & {yaml.TagToken, yaml.AnchorToken, yaml.AliasToken, yaml.DirectiveToken}, text
    text.encode("utf-8")  # written as UTF-8: no lone surrogate may reach the file
    for loader in (yaml.SafeLoader, yaml.FullLoader):
        assert _same(yaml.load(text, Loader=loader), expected), text


@pytest.mark.parametrize("value", TRICKY)
def test_every_tricky_string_is_quoted_or_read_back_as_itself(value: str) -> None:
    text = render_yaml(_workflow({"description": value}, {"prefix": value}), "t.py")
    document = yaml.load(text, Loader=yaml.FullLoader)["dag"]
    assert document["description"] == value and document["tasks"]["t1"]["prefix"] == value


def test_environment_variables_in_values_are_reported_with_the_field() -> None:
    """dag-factory runs os.path.expandvars over the YAML text before parsing (TARGET.md §2.10)."""
    source = '''from datetime import datetime
from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator

with DAG("env", schedule="0 6 * * *", start_date=datetime(2030, 1, 1), description="home is $HOME") as dag:
    S3ListOperator(task_id="list", bucket="b", prefix="${PREFIX}/in")
'''
    result = convert_source(source.encode(), "env.py", "env.py", OPTIONS)

    found = sorted((d.span.line, d.message) for d in result.all_diagnostics() if d.code == "DC316")
    assert len(found) == 2, result.all_diagnostics()
    assert "'description'" in found[0][1] and "$HOME" in found[0][1]
    assert "'prefix'" in found[1][1] and "${PREFIX}" in found[1][1]
