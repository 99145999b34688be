"""The MWAA Serverless API as this package uses it: one client, retries after throttling, paging,
and every failure as a `ServiceFailure` value.

botocore's own retries are turned off for this client so that a throttled call waits what the
service asks for: ThrottlingException and InternalServerException carry `RetryAfterSeconds`
(botocore 1.44.8 model). Without it, the wait doubles from one second. The endpoint follows boto3:
`AWS_ENDPOINT_URL_MWAA_SERVERLESS`, then `AWS_ENDPOINT_URL`, then AWS's own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from botocore.client import BaseClient

SERVICE: Final = "mwaa-serverless"
ATTEMPTS: Final = 5  #: per call, the first included
MAX_WAIT: Final = 30.0  #: seconds; a longer RetryAfterSeconds is capped
RETRYABLE: Final = frozenset({"ThrottlingException", "InternalServerException", "ConnectionClosedError",
                              "EndpointConnectionError", "ReadTimeoutError", "ConnectTimeoutError"})
#: what each operation changes; the tests count these
MUTATING: Final = frozenset({"CreateWorkflow", "UpdateWorkflow", "DeleteWorkflow", "TagResource", "UntagResource",
                             "StartWorkflowRun"})


@dataclass(frozen=True, slots=True)
class ServiceFailure(Exception):
    """A call that did not succeed: the error code and its modelled members."""

    operation: str
    code: str  #: "ValidationException", "ConflictException", ... or "EndpointConnectionError"
    message: str
    fields: tuple[tuple[str, str], ...] = ()  #: ValidationException.FieldList as (Name, Message)
    reason: str = ""  #: ValidationException.Reason
    resource: str = ""  #: ConflictException/ResourceNotFoundException ResourceId
    quota: str = ""  #: ThrottlingException QuotaCode
    attempts: int = 1

    def __str__(self) -> str:
        return f"{self.operation}: {self.code}: {self.message}"


@dataclass
class Service:
    """A client plus the count of throttled attempts of the current call (for DC610)."""

    client: Any
    sleep: Callable[[float], None] = time.sleep
    throttled: int = field(default=0)

    def call(self, operation: str, **params: object) -> dict[str, Any]:
        """Call `operation` (CamelCase, as in the model), retrying throttling as the service asks."""
        from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError,
                                         EndpointConnectionError, ReadTimeoutError)

        method = getattr(self.client, _snake(operation))
        self.throttled = 0
        wait = 1.0
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return method(**params)
            except ClientError as exc:
                response = exc.response
                failure = _failure(operation, response, attempt)
            except (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError, ConnectTimeoutError) as exc:
                # no answer: retried like throttling (CreateWorkflow carries one ClientToken for all attempts)
                failure = ServiceFailure(operation, type(exc).__name__, str(exc), attempts=attempt)
                response = {}
            except BotoCoreError as exc:
                raise ServiceFailure(operation, type(exc).__name__, str(exc), attempts=attempt) from exc
            if failure.code not in RETRYABLE or attempt == ATTEMPTS:
                raise failure
            self.throttled += 1
            after = response.get("RetryAfterSeconds")
            self.sleep(min(MAX_WAIT, float(after)) if isinstance(after, (int, float)) and after >= 0 else wait)
            wait = min(MAX_WAIT, wait * 2)
        raise AssertionError("unreachable")  # pragma: no cover

    def workflows(self) -> Iterator[dict[str, Any]]:
        """Every workflow of the account, page by page (ListWorkflows has no name filter)."""
        token: str | None = None
        while True:
            page = self.call("ListWorkflows", MaxResults=100, **({"NextToken": token} if token else {}))
            yield from page.get("Workflows", [])
            token = page.get("NextToken")
            if not token:
                return

    def tags(self, arn: str) -> dict[str, str]:
        return dict(self.call("ListTagsForResource", ResourceArn=arn).get("Tags") or {})


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def _failure(operation: str, response: Mapping[str, Any], attempt: int) -> ServiceFailure:
    """botocore puts a modelled error's members at the top of `response`, beside `Error`."""
    error = response.get("Error", {})
    fields = tuple((str(f.get("Name", "")), str(f.get("Message", ""))) for f in response.get("FieldList") or ())
    return ServiceFailure(operation, str(error.get("Code", "Unknown")), str(error.get("Message", "")), fields,
                          str(response.get("Reason", "")), str(response.get("ResourceId", "")),
                          str(response.get("QuotaCode", "")), attempt)


def make_service(endpoint_url: str | None = None) -> Service:
    """A client from the standard credential chain; retries are `Service.call`'s."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return Service(boto3.session.Session().client(SERVICE, endpoint_url=endpoint_url or None, config=config))


def make_s3(endpoint_url: str | None = None) -> "BaseClient":
    """The S3 client for definitions; `--endpoint-url`, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5})
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=config)





def shape_problem(shape_name: str, value: str) -> str | None:
    """Why the service model's string shape `shape_name` refuses `value` (length, pattern), or None.
    botocore checks only `min` on the client; the service checks the rest."""
    import re

    from botocore.loaders import Loader

    shape = Loader().load_service_model(SERVICE, "service-2")["shapes"][shape_name]
    if len(value) < shape.get("min", 0) or len(value) > shape.get("max", len(value)):
        return f"{len(value)} characters; {shape_name} takes {shape.get('min', 0)} to {shape.get('max')}"
    pattern = shape.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        return f"does not match {shape_name}'s pattern {pattern}"
    return None
__all__ = ["ATTEMPTS", "MUTATING", "SERVICE", "Service", "ServiceFailure", "make_s3", "make_service", "shape_problem"]
