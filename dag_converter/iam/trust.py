"""The execution role's trust policy: MWAA Serverless assumes the role.

The principal is ``airflow-serverless.amazonaws.com`` (shared/SERVICE.md §1.4: the AWS launch blog
and the aws-samples deploy script's ``trust-policy.json``). With an account, the trust is limited
to workflows of that account (``aws:SourceAccount``), the confused-deputy guard AWS recommends for
service roles.
"""

from __future__ import annotations

from typing import Any, Final

SERVICE_PRINCIPAL: Final = "airflow-serverless.amazonaws.com"


def trust_policy(account: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "MwaaServerlessAssumesRole",
        "Effect": "Allow",
        "Principal": {"Service": SERVICE_PRINCIPAL},
        "Action": "sts:AssumeRole",
    }
    if account and account != "*":
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return {"Version": "2012-10-17", "Statement": [statement]}
