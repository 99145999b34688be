"""Workflow names and the tags dag-converter owns on a workflow.

The service's rule for a name is the model's `NameString` (botocore 1.44.8, mwaa-serverless
2024-07-26): 1 to 255 characters matching `[a-zA-Z0-9]+[a-zA-Z0-9\\.\\-_]*`. botocore checks only
the length on the client, so a name it would send is checked here, before any call. Airflow's dag
ids also allow a leading `_`, `.` or `-`, which the service refuses.
"""

from __future__ import annotations

import re
from typing import Final

NAME_PATTERN: Final = re.compile(r"[a-zA-Z0-9]+[a-zA-Z0-9.\-_]*")
NAME_MAX: Final = 255

#: Tags written on every workflow this tool deploys. Their presence is what `--prune` trusts.
TAG_DEFINITION: Final = "dag-converter:definition-sha256"  #: sha256 of the YAML deployed
TAG_SETTINGS: Final = "dag-converter:settings-sha256"  #: sha256 of the other members sent
TAG_SCOPE: Final = "dag-converter:definitions"  #: the s3:// folder the definitions came from
OWN_TAGS: Final = (TAG_DEFINITION, TAG_SETTINGS, TAG_SCOPE)
TAGS_MAX: Final = 50  #: the model's `Tags` map: max 50
TAG_KEY_MAX: Final = 128
TAG_VALUE_MAX: Final = 256


def workflow_name(prefix: str, dag_id: str) -> str:
    return f"{prefix}{dag_id}"


def name_problem(name: str) -> str | None:
    """Why the service would refuse `name`, or None."""
    if not name:
        return "it is empty"
    if len(name) > NAME_MAX:
        return f"it is {len(name)} characters long; the limit is {NAME_MAX}"
    if not NAME_PATTERN.fullmatch(name):
        if not name[0].isascii() or not name[0].isalnum():
            return f"it starts with {name[0]!r}; a workflow name starts with a letter or a digit"
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "._-"))})
        return f"it contains {''.join(bad)!r}; only letters, digits, '.', '-' and '_' are allowed"
    return None


__all__ = ["NAME_MAX", "NAME_PATTERN", "OWN_TAGS", "TAGS_MAX", "TAG_DEFINITION", "TAG_KEY_MAX", "TAG_SCOPE",
           "TAG_SETTINGS", "TAG_VALUE_MAX", "name_problem", "workflow_name"]
