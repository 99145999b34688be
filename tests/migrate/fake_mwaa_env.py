"""A stand-in for an MWAA environment on 127.0.0.1: the `mwaa` API's GetEnvironment and InvokeRestApi
(rest-json, botocore 1.44.8 model mwaa 2020-07-01), with the environment's Airflow behind InvokeRestApi.

moto (5.2.5) has no MWAA. Every request is checked against botocore's model (ParamValidator plus the
pattern/max/enum it leaves out, deploy's `fake_mwaa.check`), and every answer too. The Airflow side
answers from the Airflow 3.0.6 REST API's own OpenAPI document (apache-airflow-core,
airflow/api_fastapi/core_api/openapi/v2-rest-api-generated.yaml): the method and path must be an
operation of `/api/v2`, the query parameters must be that operation's (and match their schemas), the
body must match its requestBody schema, and each canned answer must match the 200 response schema.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import airflow.api_fastapi.core_api.openapi as openapi_package
import botocore.session
import yaml
from openapi_schema_validator import OAS31Validator

from deploy.fake_mwaa import check

ACCOUNT = "123456789012"
REGION = "us-east-1"
SPEC = yaml.safe_load((Path(openapi_package.__file__).parent / "v2-rest-api-generated.yaml").read_text())
API_ROOT = "/api/v2"


def _validator(schema: dict[str, Any]) -> OAS31Validator:
    return OAS31Validator({**schema, "components": SPEC["components"]})


def openapi_problems(value: Any, schema: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in _validator(schema).iter_errors(value)]


def _operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The OpenAPI operation of METHOD /api/v2PATH, and the path parameters; None when there is none."""
    for template, item in SPEC["paths"].items():
        if not template.startswith(API_ROOT) or method.lower() not in item:
            continue
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template[len(API_ROOT):]))
        match = re.fullmatch(pattern, path)
        if match:
            return item[method.lower()], {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def dag_response(dag_id: str, fileloc: str, *, is_paused: bool = False) -> dict[str, Any]:
    """A DAGResponse as Airflow 3.0.6 answers it for a DAG of the `dags-folder` bundle."""
    relative = fileloc.split("/dags/", 1)[-1]
    return {"dag_id": dag_id, "dag_display_name": dag_id, "is_paused": is_paused, "is_stale": False,
            "last_parsed_time": "2026-11-01T10:00:00Z", "last_expired": None, "bundle_name": "dags-folder",
            "bundle_version": None, "relative_fileloc": relative, "fileloc": fileloc, "description": None,
            "timetable_summary": "@daily", "timetable_description": "At 00:00", "tags": [], "max_active_tasks": 16,
            "max_active_runs": 16, "max_consecutive_failed_dag_runs": 0, "has_task_concurrency_limits": False,
            "has_import_errors": False, "next_dagrun_logical_date": None, "next_dagrun_data_interval_start": None,
            "next_dagrun_data_interval_end": None, "next_dagrun_run_after": None, "owners": ["airflow"],
            "file_token": uuid.uuid5(uuid.NAMESPACE_URL, fileloc).hex}


def import_error(number: int, filename: str, message: str) -> dict[str, Any]:
    return {"import_error_id": number, "timestamp": "2026-11-01T10:00:00Z", "filename": filename,
            "bundle_name": "dags-folder",
            "stack_trace": f'Traceback (most recent call last):\n  File "{filename}", line 3, in <module>\n{message}\n'}


@dataclass
class FakeEnvironment:
    """One environment: GetEnvironment's answer and its Airflow's DAGs and import errors."""

    environment: dict[str, Any]
    dags: dict[str, dict[str, Any]] = field(default_factory=dict)  #: dag_id -> DAGResponse
    import_errors: list[dict[str, Any]] = field(default_factory=list)
    deny_rest: bool = False  #: InvokeRestApi answers AccessDeniedException (the caller's role lacks it)


class FakeMwaa:
    def __init__(self, page_size: int = 2) -> None:
        self.model = botocore.session.get_session().get_service_model("mwaa")
        self.environments: dict[str, FakeEnvironment] = {}
        self.page_size = page_size  #: Airflow caps `limit` (its maximum_page_limit); small to exercise paging
        self.calls: list[tuple[str, dict[str, Any], int]] = []
        self.broken: list[str] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeMwaa":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, environment: FakeEnvironment) -> None:
        wrong = check({"Environment": environment.environment},
                      self.model.operation_model("GetEnvironment").output_shape)
        assert not wrong, wrong
        for dag in environment.dags.values():
            assert not openapi_problems(dag, {"$ref": "#/components/schemas/DAGResponse"})
        for error in environment.import_errors:
            assert not openapi_problems(error, {"$ref": "#/components/schemas/ImportErrorResponse"})
        self.environments[environment.environment["Name"]] = environment

    def rest_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        return [r for op, r, _ in self.calls if op == "InvokeRestApi" and (method is None or r["Method"] == method)]

    # ---- protocol (rest-json)
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers, answer = fake.handle(method, self.path, body, self.headers.get("Authorization", ""),
                                                      self.headers.get("Host", ""))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def handle(self, method: str, path: str, body: bytes, authorization: str,
               host: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self.lock:
            try:
                # metadata: signingName airflow, sigv4
                if "/airflow/aws4_request" not in authorization:
                    raise _Error("AccessDeniedException", 403, Message="request not signed for airflow")
                if not host.startswith("127.0.0.1"):  # a host prefix (api./env.) was injected
                    raise _Error("ValidationException", 400, Message=f"unexpected host {host}")
                operation, request = self._route(method, path, body)
                self.calls.append((operation, request, 0))
                problems = check(request, self.model.operation_model(operation).input_shape)
                if problems:
                    raise _Error("ValidationException", 400, Message="; ".join(f"{n}: {m}" for n, m in problems))
                environment = self.environments.get(request["Name"])
                if environment is None:
                    raise _Error("ResourceNotFoundException", 404, Message=f"environment {request['Name']} not found")
                answer = self.get_environment(environment) if operation == "GetEnvironment" else \
                    self.invoke(environment, request)
                wrong = check(answer, self.model.operation_model(operation).output_shape)
                assert not wrong, f"the fake answered outside the model: {wrong}"
                status, headers = 200, {}
            except _Error as error:
                status, headers, answer = error.status, {"x-amzn-ErrorType": error.code}, error.members
            except AssertionError as exc:
                self.broken.append(str(exc))
                status, headers, answer = 500, {"x-amzn-ErrorType": "InternalServerException"}, {"Message": "broken"}
            if self.calls and self.calls[-1][2] == 0:
                self.calls[-1] = (self.calls[-1][0], self.calls[-1][1], status)
            return status, headers, answer

    def _route(self, method: str, path: str, body: bytes) -> tuple[str, dict[str, Any]]:
        # GetEnvironment: GET /environments/{Name}; InvokeRestApi: POST /restapi/{Name}
        path = path.split("?", 1)[0]
        for operation in ("GetEnvironment", "InvokeRestApi"):
            http = self.model.operation_model(operation).http
            prefix = http["requestUri"].split("{", 1)[0]
            if method == http["method"] and path.startswith(prefix):
                request: dict[str, Any] = {"Name": unquote(path[len(prefix):])}
                if operation == "InvokeRestApi":
                    try:
                        document = json.loads(body or b"{}")
                    except ValueError:
                        raise _Error("ValidationException", 400, Message="cannot parse the body") from None
                    if not isinstance(document, dict):
                        raise _Error("ValidationException", 400, Message="the body is not an object")
                    request.update(document)
                return operation, request
        raise _Error("UnknownOperationException", 404, Message=f"no operation {method} {path}")

    def get_environment(self, environment: FakeEnvironment) -> dict[str, Any]:
        return {"Environment": environment.environment}

    def invoke(self, environment: FakeEnvironment, request: dict[str, Any]) -> dict[str, Any]:
        if environment.deny_rest:
            raise _Error("AccessDeniedException", 403, Message="not authorized to perform airflow:InvokeRestApi")
        method, path = request["Method"], request["Path"]
        found = _operation(method, path)
        if found is None:
            raise _rest_error(404, f"no Airflow operation {method} {API_ROOT}{path}")
        operation, path_params = found
        params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        query = request.get("QueryParameters") or {}
        for name, value in query.items():
            if name not in params:
                raise _rest_error(422, f"unknown query parameter {name!r}")
            problems = openapi_problems(value, params[name]["schema"])
            if problems:
                raise _rest_error(422, f"query parameter {name}: {problems}")
        if "requestBody" in operation:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            if "Body" not in request or openapi_problems(request["Body"], schema):
                raise _rest_error(422, f"body: {openapi_problems(request.get('Body'), schema)}")
        elif "Body" in request:
            raise _rest_error(422, "this operation takes no body")
        answer = self._airflow(environment, method, path, path_params, query, request.get("Body"))
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        wrong = openapi_problems(answer, schema)
        assert not wrong, f"the fake's Airflow answered outside the OpenAPI schema: {wrong}"
        return {"RestApiStatusCode": 200, "RestApiResponse": answer}

    def _airflow(self, environment: FakeEnvironment, method: str, path: str, path_params: dict[str, str],
                 query: dict[str, Any], body: Any) -> dict[str, Any]:
        limit = min(int(query.get("limit", 50)), self.page_size)
        offset = int(query.get("offset", 0))
        if (method, path) == ("GET", "/dags"):
            dags = sorted(environment.dags.values(), key=lambda d: d["dag_id"])
            return {"dags": dags[offset:offset + limit], "total_entries": len(dags)}
        if (method, path) == ("GET", "/importErrors"):
            errors = environment.import_errors
            return {"import_errors": errors[offset:offset + limit], "total_entries": len(errors)}
        if method == "PATCH" and path.startswith("/dags/") and "dag_id" in path_params:
            dag = environment.dags.get(path_params["dag_id"])
            if dag is None:
                raise _rest_error(404, f"The DAG with dag_id: `{path_params['dag_id']}` was not found")
            dag["is_paused"] = bool(body["is_paused"])
            return dag
        raise _rest_error(405, f"the fake does not implement {method} {path}")


class _Error(Exception):
    def __init__(self, code: str, status: int, **members: Any) -> None:
        super().__init__(code)
        self.code, self.status, self.members = code, status, members


def _rest_error(status: int, detail: str) -> _Error:
    # RestApiClientException: RestApiStatusCode, RestApiResponse ("The error response data from the
    # Apache Airflow REST API call"); Airflow's own error body is {"detail": ...}
    return _Error("RestApiClientException", 400, RestApiStatusCode=status, RestApiResponse={"detail": detail})
