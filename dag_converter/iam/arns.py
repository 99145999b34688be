"""ARN templates of the IAM catalogue, filled from literal values.

The templates (``arn:${Partition}:glue:${Region}:${Account}:job/${JobName}``) ship in the registry's
IAM data (``registry/data/iam-amazon-<version>.json``, key ``arns``), copied from the catalogue at
build time. Region and account default to ``*``: the converter does not know where the workflow
runs, and a name-scoped ARN with wildcard region and account is still least privilege per name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

_VARIABLE: Final = re.compile(r"\$\{([A-Za-z]+)\}")
#: ARN of a resource given whole: arn:partition:service:region:account:rest
_ARN: Final = re.compile(r"^arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$")
#: https://sqs.<region>.amazonaws.com/<account>/<name> (also the legacy queue.amazonaws.com form)
_QUEUE_URL: Final = re.compile(r"^https?://[^/]+/(\d{12})/([A-Za-z0-9_-]{1,80}(\.fifo)?)/?$")


@dataclass(frozen=True, slots=True)
class Place:
    """Where the role is used: the partition, and region/account when known (else ``*``)."""

    partition: str = "aws"
    region: str = "*"
    account: str = "*"


def is_arn(value: str) -> bool:
    return bool(_ARN.match(value))


def fill(template: str, values: Mapping[str, str], place: Place = Place()) -> str | None:
    """``template`` with every variable replaced; None when one is missing."""
    known = {"Partition": place.partition, "Region": place.region, "Account": place.account, **values}
    missing = [name for name in _VARIABLE.findall(template) if name not in known]
    if missing:
        return None
    return _VARIABLE.sub(lambda m: known[m.group(1)], template)


def variables(template: str) -> tuple[str, ...]:
    """The resource's own variables (not partition, region, account)."""
    return tuple(v for v in _VARIABLE.findall(template) if v not in ("Partition", "Region", "Account"))


def queue_arn(url: str, place: Place = Place()) -> str | None:
    """The ARN of an SQS queue given by URL (the account is part of the URL)."""
    match = _QUEUE_URL.match(url)
    if not match:
        return None
    return f"arn:{place.partition}:sqs:{place.region}:{match.group(1)}:{match.group(2)}"
