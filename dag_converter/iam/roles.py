"""Create or update a workflow's execution role through the IAM API (for ``deploy --create-roles``).

Idempotent: a missing role is created with the trust policy; an existing one gets the trust policy
and the inline policy replaced only when they differ, so a rerun with unchanged documents makes no
write call. The inline policy is named `POLICY_NAME`.
"""

from __future__ import annotations

import json
from typing import Any, Final
from urllib.parse import unquote

POLICY_NAME: Final = "dag-converter-execution"
TAG: Final = {"Key": "created-by", "Value": "dag-converter"}


def _document(value: Any) -> Any:
    """IAM returns policy documents URL-encoded JSON (the API) or decoded (boto3): both -> dict."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def create_or_update_role(
    iam_client: Any, name: str, trust: dict[str, Any], policy: dict[str, Any], *, description: str | None = None
) -> dict[str, Any]:
    """Make role ``name`` exist with ``trust`` and the inline ``policy``; returns what was done:
    ``{"arn": ..., "created": bool, "trust_updated": bool, "policy_updated": bool}``.

    ``iam_client`` is a boto3 IAM client. AWS errors other than "no such role" propagate.
    """
    errors = iam_client.exceptions
    created = trust_updated = policy_updated = False
    try:
        role = iam_client.get_role(RoleName=name)["Role"]
    except errors.NoSuchEntityException:
        options: dict[str, Any] = {"Tags": [TAG]}
        if description:
            options["Description"] = description
        role = iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=_text(trust), **options)["Role"]
        created = True
    else:
        if _document(role.get("AssumeRolePolicyDocument")) != trust:
            iam_client.update_assume_role_policy(RoleName=name, PolicyDocument=_text(trust))
            trust_updated = True
    current = None
    if not created:
        try:
            current = _document(iam_client.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"])
        except errors.NoSuchEntityException:
            current = None
    if current != policy:
        iam_client.put_role_policy(RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=_text(policy))
        policy_updated = True
    return {"arn": role["Arn"], "created": created, "trust_updated": trust_updated, "policy_updated": policy_updated}
