"""Plans and names as data: no network."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dag_converter.deploy.inputs import ConvertedDag, Definition, _dag_fields
from dag_converter.deploy.names import TAG_DEFINITION, TAG_SCOPE, TAG_SETTINGS, name_problem
from dag_converter.deploy.plan import Action, Existing, Settings, desired_workflow, make_plan, render_plan
from dag_converter.model import Span

SETTINGS = Settings(role_arn="arn:aws:iam::123456789012:role/r", definitions="s3://b/wf/")


def want(dag_id: str, sha: str = "a" * 64, settings: Settings = SETTINGS, tags: tuple[str, ...] = ()):  # noqa: ANN201
    dag = ConvertedDag(dag_id, Span(f"dags/{dag_id}.py", 3), f"{dag_id}.yaml")
    return desired_workflow(dag_id, Definition(dag, b"", sha, "d", tags), settings, "s3://b/wf/")


@pytest.mark.parametrize("name, problem", [
    ("etl", None), ("9lives", None), ("a.b-c_d", None), ("x" * 255, None),
    ("_under", "it starts with '_'"), ("-x", "it starts with '-'"), (".x", "it starts with '.'"),
    ("x" * 256, "256 characters"), ("list keys", "contains ' '"), ("", "empty"), ("é", "starts with 'é'"),
])
def test_name_rule(name: str, problem: str | None) -> None:
    found = name_problem(name)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_unchanged_update_retag_and_adopt() -> None:
    same, changed, retag, adopted, new = want("same"), want("changed"), want("retag", tags=("new",)), want("adopted"), \
        want("new")
    existing = {
        "same": Existing("same", "arn:same", dict(same.tags)),
        "changed": Existing("changed", "arn:changed", {**changed.tags, TAG_DEFINITION: "b" * 64}),
        "retag": Existing("retag", "arn:retag", {k: v for k, v in retag.tags.items() if k != "new"}),
        "adopted": Existing("adopted", "arn:adopted", {"owner": "console"}),
    }
    plan = make_plan([same, changed, retag, adopted, new], existing,
                     [Existing("gone", "arn:gone", {TAG_SCOPE: "s3://b/wf/"})])
    assert [(s.name, s.action, s.reasons, s.new_version) for s in plan.steps] == [
        ("same", Action.UNCHANGED, (), True),
        ("changed", Action.UPDATE, ("definition changed",), True),
        ("retag", Action.UPDATE, ("tags changed",), False),
        ("adopted", Action.UPDATE, ("not deployed by dag-converter before",), True),
        ("new", Action.CREATE, (), True),
        ("gone", Action.DELETE, ("its DAG is no longer converted",), True),
    ]
    assert render_plan(plan).splitlines()[-1] == "1 to create, 3 to update, 1 to delete, 1 unchanged."


def test_settings_digest_ignores_kms_and_follows_members() -> None:
    base = want("a")
    assert want("a", settings=replace(SETTINGS, kms_key="k")).tags[TAG_SETTINGS] == base.tags[TAG_SETTINGS]
    other = want("a", settings=replace(SETTINGS, log_group="/g"))
    assert other.tags[TAG_SETTINGS] != base.tags[TAG_SETTINGS]
    assert other.members["LoggingConfiguration"] == {"LogGroupName": "/g"}


def test_description_and_tags_come_from_the_yaml() -> None:
    text = b"etl:\n  description: |\n    Loads\n    the data\n  tags: [a, 1, b]\n  tasks: {}\n"
    assert _dag_fields(text, "etl") == ("Loads the data", ("a", "b"))
    assert _dag_fields(b"- a list\n", "etl") == (None, ())
    assert _dag_fields(b": : not yaml [", "etl") == (None, ())
    assert _dag_fields(b"etl:\n  description: " + b"x" * 2000 + b"\n", "etl")[0] == "x" * 1024


def test_every_deploy_code_is_raised_by_a_cli_test() -> None:
    from pathlib import Path

    from dag_converter import codes

    text = "".join((Path(__file__).parent / name).read_text(encoding="utf-8")
                   for name in ("test_deploy_cli.py", "test_create_roles.py"))
    missing = [c.code for c in codes.documented_codes() if c.code.startswith("DC6") and c.code not in text]
    assert missing == []
