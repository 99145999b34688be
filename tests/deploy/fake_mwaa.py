"""A stand-in for MWAA Serverless on 127.0.0.1, speaking the service's AWS JSON 1.0 protocol.

moto (5.2.5) has no MWAA Serverless. This server takes its rules from botocore's own service model
(mwaa-serverless 2024-07-26): every request is checked with botocore's ParamValidator (required
members, types, `min`) AND with the `pattern`, `max` and `enum` of the same shapes, which the
client does not check and the service does. Each behaviour below cites the model sentence it
encodes. What it cannot know: what the real service refuses inside a YAML definition.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import boto3
import botocore.session
import yaml
from botocore.validate import ParamValidator

TARGET_PREFIX = "AmazonMWAAServerless."  # metadata.targetPrefix
ACCOUNT = "123456789012"
REGION = "us-east-1"
MUTATING = {"CreateWorkflow", "UpdateWorkflow", "DeleteWorkflow", "TagResource", "UntagResource", "StartWorkflowRun"}


class ServiceError(Exception):
    def __init__(self, code: str, status: int, **members: Any) -> None:
        super().__init__(code)
        self.code, self.status, self.members = code, status, members


def validation(message: str, fields: list[tuple[str, str]], reason: str = "fieldValidationFailed") -> ServiceError:
    # ValidationException: required Message and Reason (enum), optional FieldList[{Name, Message}]
    return ServiceError("ValidationException", 400, Message=message, Reason=reason,
                        FieldList=[{"Name": n, "Message": m[:2048]} for n, m in fields])


@dataclass
class Fault:
    """An injected answer: `operation` for workflow `name` (None: any) fails with `code` `times` times."""

    operation: str
    code: str
    name: str | None = None
    times: int = 1
    members: dict[str, Any] = field(default_factory=dict)
    before: Callable[["FakeMwaaServerless"], None] | None = None  #: runs instead of failing, then the call proceeds


@dataclass
class Workflow:
    name: str
    arn: str
    versions: list[dict[str, Any]]  #: every request that made a version, oldest first
    tags: dict[str, str]
    client_token: str | None
    created: str


class FakeMwaaServerless:
    def __init__(self, s3_endpoint: str, page_size: int = 2) -> None:
        self.model = botocore.session.get_session().get_service_model("mwaa-serverless")
        self.s3 = boto3.client("s3", region_name=REGION, endpoint_url=s3_endpoint, aws_access_key_id="testing",
                               aws_secret_access_key="testing")
        self.page_size = page_size
        self.workflows: dict[str, Workflow] = {}  # by ARN, in creation order
        self.calls: list[tuple[str, dict[str, Any], int]] = []  # (operation, request, HTTP status)
        self.faults: list[Fault] = []
        self.warnings: dict[str, list[str]] = {}  #: injected CreateWorkflow/UpdateWorkflow `Warnings`, by name
        self.broken: list[str] = []  #: answers the fake could not give within the model
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeMwaaServerless":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- what tests read
    def count(self, operation: str) -> int:
        return sum(1 for op, _, _ in self.calls if op == operation)

    def mutating_calls(self) -> list[str]:
        return [op for op, _, _ in self.calls if op in MUTATING]

    def by_name(self, name: str) -> Workflow | None:
        return next((w for w in self.workflows.values() if w.name == name), None)

    def add(self, name: str, tags: dict[str, str] | None = None) -> Workflow:
        """A workflow made by someone else (the console, another tool)."""
        arn = self._arn(name)
        workflow = Workflow(name, arn, [{"Name": name, "WorkflowVersion": uuid.uuid4().hex}], dict(tags or {}), None,
                            _now())
        self.workflows[arn] = workflow
        return workflow

    # ---- protocol
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                # JSON 1.0: POST / with X-Amz-Target: <targetPrefix>.<Operation>, body a JSON object
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                target = self.headers.get("X-Amz-Target", "")
                status, answer = fake.handle(target, body, self.headers.get("Authorization", ""),
                                             self.headers.get("Content-Type", ""))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def handle(self, target: str, body: bytes, authorization: str, content_type: str) -> tuple[int, dict[str, Any]]:
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else ""
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = None
        with self.lock:
            try:
                if operation not in self.model.operation_names:
                    raise validation(f"unknown operation {target!r}", [], reason="unknownOperation")
                # metadata: signingName airflow-serverless, signatureVersion v4
                if "/airflow-serverless/aws4_request" not in authorization or "AWS4-HMAC-SHA256" not in authorization:
                    raise ServiceError("AccessDeniedException", 403, Message="request not signed for airflow-serverless")
                if content_type != "application/x-amz-json-1.0" or not isinstance(request, dict):
                    raise validation("cannot parse the request body", [], reason="cannotParse")
                self.calls.append((operation, request, 0))
                shape = self.model.operation_model(operation).input_shape
                problems = check(request, shape)
                if problems:
                    raise validation("; ".join(f"{n}: {m}" for n, m in problems), problems)
                self._inject(operation, request)
                response = getattr(self, "op_" + operation)(request)
                output = self.model.operation_model(operation).output_shape
                wrong = check(response, output)
                assert not wrong, f"the fake answered outside the model: {wrong}"
                status = 200
            except ServiceError as error:
                response = {"__type": error.code, **error.members}
                status = error.status
            except AssertionError as exc:  # the fake itself is wrong: the test fixture fails on it
                self.broken.append(str(exc))
                response = {"__type": "InternalServerException", "Message": "fake broken"}
                status = 500
            if self.calls and self.calls[-1][0] == operation and self.calls[-1][2] == 0:
                self.calls[-1] = (operation, request, status)
            return status, response

    def _inject(self, operation: str, request: dict[str, Any]) -> None:
        name = request.get("Name") or self._name_of(request.get("WorkflowArn") or request.get("ResourceArn"))
        for fault in self.faults:
            if fault.operation == operation and fault.times > 0 and fault.name in (None, name):
                fault.times -= 1
                if fault.before is not None:
                    fault.before(self)
                    return
                members = {"Message": f"injected {fault.code}", **fault.members}
                if fault.code == "ThrottlingException":
                    # ThrottlingException: required Message, ServiceCode, QuotaCode; RetryAfterSeconds
                    # "The number of seconds to wait before retrying the operation."
                    members = {"ServiceCode": "airflow-serverless", "QuotaCode": "L-CREATE-RATE",
                               "RetryAfterSeconds": 0, **members}
                    raise ServiceError(fault.code, 400, **members)
                raise ServiceError(fault.code, 403 if fault.code == "AccessDeniedException" else 400, **members)

    def _name_of(self, arn: object) -> str | None:
        workflow = self.workflows.get(arn) if isinstance(arn, str) else None
        return workflow.name if workflow else None

    def _arn(self, name: str) -> str:
        # Name: "The service generates a unique identifier that is appended to ensure temporal
        # uniqueness"; WorkflowArn pattern ends in workflow/<name>-[a-zA-Z0-9]{10}
        return f"arn:aws:airflow-serverless:{REGION}:{ACCOUNT}:workflow/{name}-{uuid.uuid4().hex[:10]}"

    def _workflow(self, arn: str) -> Workflow:
        try:
            return self.workflows[arn]
        except KeyError:
            # ResourceNotFoundException: required Message, ResourceId, ResourceType
            raise ServiceError("ResourceNotFoundException", 404, Message=f"no workflow {arn}", ResourceId=arn,
                               ResourceType="Workflow") from None

    def _snapshot(self, location: dict[str, str]) -> bytes:
        # DefinitionS3Location: "takes a snapshot of the definition at creation time"; "This must
        # point to a valid YAML file that defines the workflow structure". ValidationException:
        # "This can occur ... when S3 locations are inaccessible".
        extra = {"VersionId": location["VersionId"]} if "VersionId" in location else {}
        try:
            data = self.s3.get_object(Bucket=location["Bucket"], Key=location["ObjectKey"], **extra)["Body"].read()
        except Exception as exc:  # noqa: BLE001 - any S3 failure is "inaccessible"
            raise validation("the definition is not accessible",
                             [("DefinitionS3Location", f"cannot read s3://{location['Bucket']}/"
                                                       f"{location['ObjectKey']}: {exc}")]) from None
        try:
            document = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise validation("the definition is not YAML", [("DefinitionS3Location", str(exc))]) from None
        if not isinstance(document, dict) or len(document) != 1 or not isinstance(next(iter(document.values())), dict):
            raise validation("the definition does not define a workflow",
                             [("DefinitionS3Location", "expected one DAG id mapped to its definition")])
        return data

    def _code(self, request: dict[str, Any]) -> str | None:
        # Code.S3Location: "the service copies the code from this location at the time of the
        # request" (botocore 1.44.8); a zip whose entries sit at the archive root. Returns the
        # sha256 of the bytes copied, kept with the version so tests can tell which package it got.
        code = request.get("Code")
        if code is None:
            return None
        location = code["S3Location"]
        extra = {"VersionId": location["VersionId"]} if "VersionId" in location else {}
        try:
            data = self.s3.get_object(Bucket=location["Bucket"], Key=location["ObjectKey"], **extra)["Body"].read()
            zipfile.ZipFile(io.BytesIO(data)).testzip()
        except Exception as exc:  # noqa: BLE001 - unreadable or not a zip
            raise validation("the code package is not accessible", [("Code", str(exc))]) from None
        return hashlib.sha256(data).hexdigest()

    # ---- operations
    def op_CreateWorkflow(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        existing = self.by_name(request["Name"])
        if existing is not None:
            # ClientToken: "ensure the idempotency of the request. This token prevents duplicate
            # workflow creation requests" (CreateWorkflow is marked idempotent)
            if request.get("ClientToken") and existing.client_token == request.get("ClientToken"):
                return self._created(existing)
            # Name: "You must use unique workflow names within your Amazon Web Services account";
            # ConflictException: "You cannot create a resource that already exists"
            raise ServiceError("ConflictException", 409, Message=f"workflow {request['Name']} already exists",
                               ResourceId=existing.arn, ResourceType="Workflow")
        snapshot = self._snapshot(request["DefinitionS3Location"])
        code = self._code(request)
        arn = self._arn(request["Name"])
        version = {**request, "WorkflowVersion": uuid.uuid4().hex, "Snapshot": snapshot.decode(), "CodeSha256": code}
        # CreateWorkflow: "automatically creates the first version of the workflow"
        workflow = Workflow(request["Name"], arn, [version], dict(request.get("Tags") or {}),
                            request.get("ClientToken"), _now())
        self.workflows[arn] = workflow
        return self._created(workflow)

    def _created(self, workflow: Workflow) -> dict[str, Any]:
        return {"WorkflowArn": workflow.arn, "CreatedAt": workflow.created, "WorkflowStatus": "READY",
                "WorkflowVersion": workflow.versions[-1]["WorkflowVersion"], "IsLatestVersion": True,
                "Warnings": self.warnings.get(workflow.name, [])}

    def op_UpdateWorkflow(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        workflow = self._workflow(request["WorkflowArn"])
        snapshot = self._snapshot(request["DefinitionS3Location"])
        code = self._code(request)
        # UpdateWorkflow: "automatically creates a new version with the updated configuration and
        # disables scheduling on all previous versions"; no Tags member (tags stay as they are)
        version = {**request, "Name": workflow.name, "WorkflowVersion": uuid.uuid4().hex,
                   "Snapshot": snapshot.decode(), "CodeSha256": code}
        workflow.versions.append(version)
        return {"WorkflowArn": workflow.arn, "ModifiedAt": _now(), "WorkflowVersion": version["WorkflowVersion"],
                "Warnings": self.warnings.get(workflow.name, [])}

    def op_GetWorkflow(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        workflow = self._workflow(request["WorkflowArn"])
        wanted = request.get("WorkflowVersion")
        version = next((v for v in workflow.versions if v["WorkflowVersion"] == wanted), None) if wanted else \
            workflow.versions[-1]
        if version is None:
            raise ServiceError("ResourceNotFoundException", 404, Message=f"no version {wanted}",
                               ResourceId=workflow.arn, ResourceType="WorkflowVersion")
        # EncryptionConfiguration is a CreateWorkflow member only: the first version's stays
        encryption = workflow.versions[0].get("EncryptionConfiguration") or {"Type": "AWS_MANAGED_KEY"}
        answer = {"WorkflowArn": workflow.arn, "WorkflowVersion": version["WorkflowVersion"], "Name": workflow.name,
                  "CreatedAt": workflow.created, "WorkflowStatus": "READY", "EncryptionConfiguration": encryption}
        for member in ("Description", "LoggingConfiguration", "NetworkConfiguration", "RoleArn", "TriggerMode",
                       "DefinitionS3Location", "EngineVersion", "Code", "Environment"):
            if member in version:
                answer[member] = version[member]
        return answer

    def op_ListWorkflows(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # "Lists all workflows in your account, with optional pagination support ... showing only
        # the most recently created version of each workflow." NextToken: "This value is null if
        # there are no more results." A page holds at most MaxResults (and at most page_size here).
        start = 0
        if "NextToken" in request:
            try:
                start = int(base64.b64decode(request["NextToken"]).decode())
            except ValueError:
                raise validation("invalid NextToken", [("NextToken", "not a token this service issued")]) from None
        size = min(request.get("MaxResults", 100), self.page_size)
        everything = list(self.workflows.values())
        page = everything[start:start + size]
        answer: dict[str, Any] = {"Workflows": [
            {"WorkflowArn": w.arn, "WorkflowVersion": w.versions[-1]["WorkflowVersion"], "Name": w.name,
             "CreatedAt": w.created, "WorkflowStatus": "READY",
             **({"TriggerMode": w.versions[-1]["TriggerMode"]} if "TriggerMode" in w.versions[-1] else {}),
             **({"Description": w.versions[-1]["Description"]} if "Description" in w.versions[-1] else {})}
            for w in page]}
        if start + size < len(everything):
            answer["NextToken"] = base64.b64encode(str(start + size).encode()).decode()
        return answer

    def op_ListTagsForResource(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"Tags": dict(self._workflow(request["ResourceArn"]).tags)}

    def op_TagResource(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # TagResource: "Adds tags"; Tags: map, max 50
        workflow = self._workflow(request["ResourceArn"])
        merged = {**workflow.tags, **request["Tags"]}
        if len(merged) > 50:
            raise validation("too many tags", [("Tags", "a resource takes at most 50 tags")])
        workflow.tags = merged
        return {}

    def op_UntagResource(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        workflow = self._workflow(request["ResourceArn"])
        workflow.tags = {k: v for k, v in workflow.tags.items() if k not in request["TagKeys"]}
        return {}

    def op_DeleteWorkflow(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # DeleteWorkflow: "Deletes a workflow and all its versions"
        workflow = self._workflow(request["WorkflowArn"])
        del self.workflows[workflow.arn]
        return {"WorkflowArn": workflow.arn}

    def op_StartWorkflowRun(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._workflow(request["WorkflowArn"])
        return {"RunId": uuid.uuid4().hex, "Status": "STARTING", "StartedAt": _now()}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check(value: Any, shape: Any) -> list[tuple[str, str]]:
    """(member path, problem) for `value` against `shape`: botocore's ParamValidator (required,
    type, min, unknown members) plus the shape's pattern, max and enum, which it leaves out."""
    problems: list[tuple[str, str]] = []
    if shape is None:
        return problems
    report = ParamValidator().validate(value, shape)
    for reason, name, details in report._errors:  # botocore's own (reason, name, details) records
        member = details.get("required_name") or details.get("unknown_param")
        path = ".".join(p for p in (name.lstrip("."), member) if p) or shape.name
        shown = {k: v for k, v in details.items() if k in ("param", "valid_types", "min_allowed")}
        problems.append((path, f"{reason}" + (f" {shown}" if shown else "")))
    _walk(value, shape, "", problems)
    return problems


def _fullmatch(pattern: str, value: str) -> bool:
    """`re.fullmatch`; a model pattern written with Unicode classes (`\\p{L}`, the mwaa model's TagKey)
    is matched with the `regex` package, which reads them."""
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        import regex

        return regex.fullmatch(pattern, value) is not None


def _walk(value: Any, shape: Any, path: str, problems: list[tuple[str, str]]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict) and not meta.get("document"):
        for name, member in shape.members.items():
            if name in value:
                _walk(value[name], member, f"{path}.{name}" if path else name, problems)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            problems.append((path, f"at most {meta['max']} items"))
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{i}]", problems)
    elif kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            problems.append((path, f"at most {meta['max']} entries"))
        for key, item in value.items():
            _walk(key, shape.key, f"{path}.key", problems)
            _walk(item, shape.value, f"{path}[{key}]", problems)
    elif kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            problems.append((path, f"longer than {meta['max']} characters"))
        if shape.enum and value not in shape.enum:
            problems.append((path, f"not one of {', '.join(shape.enum)}"))
        pattern = meta.get("pattern")
        if pattern and not _fullmatch(pattern, value):
            problems.append((path, f"does not match {pattern}"))
    elif kind in ("integer", "long") and isinstance(value, int):
        if "max" in meta and value > meta["max"]:
            problems.append((path, f"greater than {meta['max']}"))
