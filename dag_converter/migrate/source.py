"""The source environment, read through the MWAA API (botocore 1.44.8, mwaa 2020-07-01).

`GetEnvironment` gives the DAG folder (`SourceBucketArn`, `DagS3Path`), the execution role, network,
KMS key, tags, Airflow configuration options and the requirements/plugins paths. `InvokeRestApi`
(`POST /restapi/{Name}`, members Path, Method, QueryParameters, Body) reaches the environment's own
Airflow REST API; with Airflow 3 that is the `/api/v2` API, whose `GET /dags` (DAGCollectionResponse:
`dags[].is_paused`, `total_entries`), `GET /importErrors` (ImportErrorCollectionResponse:
`import_errors[].filename`, `stack_trace`) and `PATCH /dags/{dag_id}` (DAGPatchBody `is_paused`) are
used here; lists are read page by page with `limit`/`offset`, the next offset being the entries read
so far (Airflow caps `limit` at its `maximum_page_limit`, so a page may be shorter than asked).

The model puts host prefixes in front of the endpoint (`api.` for GetEnvironment, `env.` for
InvokeRestApi). With a custom endpoint (--endpoint-url, AWS_ENDPOINT_URL_MWAA, AWS_ENDPOINT_URL) the
prefix would turn `127.0.0.1` into `api.127.0.0.1`, so it is not injected then.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from dag_converter.deploy.service import ServiceFailure

SERVICE: Final = "mwaa"
PAGE: Final = 100  #: `limit` of one REST API page
MAX_PAGES: Final = 1000  #: at most 100 000 DAGs or import errors are read
#: where MWAA puts DagS3Path on its workers
MWAA_DAGS_FOLDER: Final = "/usr/local/airflow/dags/"
PATH_MAX: Final = 64  #: the model's RestApiPath: 1-64 characters
_ENV_ARN: Final = re.compile(r"arn:(aws[a-z-]*):airflow:([a-z0-9-]+):(\d{12}):environment/")


@dataclass(frozen=True, slots=True)
class S3Path:
    """A requirements or plugins file of the environment: its key in the source bucket and version."""

    key: str
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Environment:
    """What GetEnvironment says about the source environment (the members this tool uses)."""

    name: str
    arn: str
    bucket: str  #: from SourceBucketArn (`arn:aws:s3:::BUCKET`)
    dag_path: str  #: DagS3Path, "dags" (no slashes at either end)
    execution_role: str | None = None
    airflow_version: str | None = None
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    kms_key: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, str], ...] = ()  #: AirflowConfigurationOptions, sorted
    requirements: S3Path | None = None
    plugins: S3Path | None = None

    @property
    def dags_url(self) -> str:
        return f"s3://{self.bucket}/{self.dag_path}/" if self.dag_path else f"s3://{self.bucket}/"

    def place(self) -> tuple[str, str, str]:
        """(partition, region, account) of the environment's ARN; ("aws", "*", "*") when unknown."""
        match = _ENV_ARN.match(self.arn)
        return (match[1], match[2], match[3]) if match else ("aws", "*", "*")


def parse_environment(data: Mapping[str, Any]) -> Environment:
    """The Environment member of a GetEnvironment response; ValueError when it names no DAG folder."""
    bucket_arn = str(data.get("SourceBucketArn") or "")
    bucket = bucket_arn.rsplit(":", 1)[-1] if bucket_arn.startswith("arn:") else ""
    if not bucket:
        raise ValueError(f"the environment has no SourceBucketArn (got {bucket_arn!r})")
    network = data.get("NetworkConfiguration") or {}

    def s3_path(key: str, version: str) -> S3Path | None:
        path = data.get(key)
        return S3Path(str(path).lstrip("/"), data.get(version) or None) if path else None

    return Environment(
        name=str(data.get("Name") or ""), arn=str(data.get("Arn") or ""), bucket=bucket,
        dag_path=str(data.get("DagS3Path") or "").strip("/"),
        execution_role=data.get("ExecutionRoleArn") or None, airflow_version=data.get("AirflowVersion") or None,
        subnets=tuple(network.get("SubnetIds") or ()), security_groups=tuple(network.get("SecurityGroupIds") or ()),
        kms_key=data.get("KmsKey") or None,
        tags=tuple(sorted((str(k), str(v)) for k, v in (data.get("Tags") or {}).items())),
        options=tuple(sorted((str(k), str(v)) for k, v in (data.get("AirflowConfigurationOptions") or {}).items())),
        requirements=s3_path("RequirementsS3Path", "RequirementsS3ObjectVersion"),
        plugins=s3_path("PluginsS3Path", "PluginsS3ObjectVersion"),
    )


@dataclass(frozen=True, slots=True)
class ImportError_:
    """One file the environment's Airflow cannot import."""

    filename: str
    reason: str  #: the last line of the stack trace


@dataclass
class AirflowState:
    """What the environment's Airflow knows: each DAG's paused state, and the files it cannot import."""

    paused: dict[str, bool] = field(default_factory=dict)  #: dag_id -> is_paused
    import_errors: list[ImportError_] = field(default_factory=list)

    def import_error_for(self, relative: str) -> ImportError_ | None:
        """The import error of the DAG-folder file `relative`. Airflow 3 names the file relative to its
        bundle; an absolute name is taken relative to MWAA's DAG folder (`MWAA_DAGS_FOLDER`)."""
        for error in self.import_errors:
            name = error.filename.replace("\\", "/")
            if name.startswith("/"):
                name = name[len(MWAA_DAGS_FOLDER):] if name.startswith(MWAA_DAGS_FOLDER) else \
                    name.split("/dags/", 1)[-1]
            if name == relative:
                return error
        return None


def custom_endpoint(endpoint_url: str | None) -> bool:
    return bool(endpoint_url or os.environ.get("AWS_ENDPOINT_URL_MWAA") or os.environ.get("AWS_ENDPOINT_URL"))


def make_mwaa(endpoint_url: str | None = None) -> Any:
    """The MWAA client; host prefixes are not injected in front of a custom endpoint."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5},
                    inject_host_prefix=not custom_endpoint(endpoint_url))
    return boto3.session.Session().client(SERVICE, endpoint_url=endpoint_url or None, config=config)


def _failure(operation: str, exc: BaseException) -> ServiceFailure:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        message = str(error.get("Message", ""))
        status = exc.response.get("RestApiStatusCode")
        if status is not None:  # RestApiClientException / RestApiServerException: Airflow's own answer
            detail = exc.response.get("RestApiResponse")
            message = f"Airflow answered {status}" + (f": {_short(detail)}" if detail else "") + \
                (f" ({message})" if message else "")
        return ServiceFailure(operation, str(error.get("Code", "Unknown")), message)
    return ServiceFailure(operation, type(exc).__name__, str(exc))


def _short(value: object, limit: int = 300) -> str:
    text = value.get("detail", value) if isinstance(value, dict) else value
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def get_environment(client: Any, name: str) -> Environment:
    """GetEnvironment; ServiceFailure when the call fails, ValueError when the answer names no DAG folder."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        data = client.get_environment(Name=name)["Environment"]
    except (BotoCoreError, ClientError) as exc:
        raise _failure("GetEnvironment", exc) from exc
    return parse_environment(data)


def rest(client: Any, name: str, method: str, path: str, *, query: Mapping[str, Any] | None = None,
         body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One Airflow REST API call through InvokeRestApi; its JSON answer. ServiceFailure otherwise."""
    from botocore.exceptions import BotoCoreError, ClientError

    operation = f"InvokeRestApi {method} {path}"
    if len(path) > PATH_MAX:
        raise ServiceFailure(operation, "ValidationException", f"the path is longer than {PATH_MAX} characters")
    params: dict[str, Any] = {"Name": name, "Method": method, "Path": path}
    if query:
        params["QueryParameters"] = dict(query)
    if body is not None:
        params["Body"] = dict(body)
    try:
        answer = client.invoke_rest_api(**params)
    except (BotoCoreError, ClientError) as exc:
        raise _failure(operation, exc) from exc
    response = answer.get("RestApiResponse")
    if not isinstance(response, dict):
        raise ServiceFailure(operation, "UnexpectedResponse", "RestApiResponse is not a JSON object")
    return response


def _pages(client: Any, name: str, path: str, member: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    offset = 0  #: entries read so far: Airflow may answer fewer than `limit` (its maximum_page_limit)
    for _ in range(MAX_PAGES):
        response = rest(client, name, "GET", path, query={"limit": PAGE, "offset": offset})
        items = response.get(member)
        if not isinstance(items, list):
            raise ServiceFailure(f"InvokeRestApi GET {path}", "UnexpectedResponse", f"no {member!r} list in the answer")
        offset += len(items)
        found += [item for item in items if isinstance(item, dict)]
        total = response.get("total_entries")
        if not items or (isinstance(total, int) and offset >= total):
            break
    return found


def airflow_state(client: Any, name: str) -> AirflowState:
    """Every DAG's paused state (`GET /dags`) and every import error (`GET /importErrors`)."""
    state = AirflowState()
    for dag in _pages(client, name, "/dags", "dags"):
        if isinstance(dag.get("dag_id"), str):
            state.paused[dag["dag_id"]] = bool(dag.get("is_paused"))
    for error in _pages(client, name, "/importErrors", "import_errors"):
        if isinstance(error.get("filename"), str):
            lines = [line.strip() for line in str(error.get("stack_trace") or "").splitlines() if line.strip()]
            state.import_errors.append(ImportError_(error["filename"], _short(lines[-1] if lines else "import error")))
    return state


def pause_dag(client: Any, name: str, dag_id: str) -> None:
    """PATCH /dags/{dag_id} with DAGPatchBody {is_paused: true} (its only required field)."""
    answer = rest(client, name, "PATCH", f"/dags/{dag_id}", body={"is_paused": True})
    if answer.get("is_paused") is not True:
        raise ServiceFailure(f"InvokeRestApi PATCH /dags/{dag_id}", "UnexpectedResponse", "the DAG is not paused")


__all__ = ["AirflowState", "Environment", "ImportError_", "S3Path", "airflow_state", "custom_endpoint",
           "get_environment", "make_mwaa", "parse_environment", "pause_dag", "rest"]
