"""A least-privilege execution role for one workflow, derived from its tasks (issue 18).

model.Workflow (each task's operator class and literal arguments) + the registry's IAM data (the
actions each operator class's code calls, derived from the provider's source by
``registry/_iam.py``) -> a permissions policy with one statement group per task. Resources are
narrowed from literal arguments where the ARN format is known (`_resolve`); ``*`` is used only where
the action has no resource type, or where the value is known only at run time or not named by any
argument (then a warning names the task and the argument). Plus what the service itself needs:
CloudWatch Logs for the workflow's log group, the definition and code objects, KMS when a key is
given. Deterministic: the same workflow gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from dag_converter import codes
from dag_converter.iam.arns import Place, fill, is_arn, queue_arn
from dag_converter.iam.trust import trust_policy
from dag_converter.model import DagResult, Diagnostic, Task, Workflow
from dag_converter.registry import DATA_DIR, EMPTY_OPERATOR_PATH, PROVIDER_VERSION, Registry

#: Where MWAA Serverless writes a workflow's logs ([BLOG] in shared/SERVICE.md §2.1:
#: ``/aws/mwaa-serverless/<name>-<id>/``); the workflow name is the dag_id.
LOG_GROUP_PREFIX: Final = "/aws/mwaa-serverless/"
DOCUMENT_VERSION: Final = 1
#: IAM quota: the aggregate size of a role's inline policies, whitespace not counted (IAM User
#: Guide, "IAM and AWS STS quotas": "Role policy size cannot exceed 10,240 characters").
INLINE_POLICY_LIMIT: Final = 10_240


@dataclass(frozen=True, slots=True)
class IamData:
    """The registry's IAM data (``registry/data/iam-amazon-<version>.json``)."""

    operators: Mapping[str, Any]
    not_derived: Mapping[str, str]
    actions: Mapping[str, Any]
    arns: Mapping[str, str]
    catalogue: Mapping[str, str]
    provider_version: str

    def operator_actions(self, path: str) -> tuple[str, ...] | None:
        entry = self.operators.get(path)
        return tuple(entry["actions"]) if entry else None

    def resource_types(self, action: str) -> tuple[str, ...]:
        return tuple(self.actions.get(action, {}).get("resource_types", ()))


def iam_data_path(provider_version: str = PROVIDER_VERSION) -> Path:
    return DATA_DIR / f"iam-amazon-{provider_version}.json"


@lru_cache(maxsize=2)
def load_iam_data(provider_version: str = PROVIDER_VERSION) -> IamData:
    raw = json.loads(iam_data_path(provider_version).read_text(encoding="utf-8"))
    return IamData(raw["operators"], raw["not_derived"], raw["actions"], raw["arns"], raw["catalogue"],
                   raw["provider"]["version"])


# ---------------------------------------------------------------------------------------------
# Literal arguments


@dataclass(frozen=True, slots=True)
class Runtime:
    """An argument whose value is known only at run time (a template, an XCom, an Unresolved)."""

    argument: str


_JINJA: Final = re.compile(r"\{\{|\{%")


class _Args:
    """A task's arguments as the derivation sees them: literal, run-time, or absent."""

    def __init__(self, task: Task, templated: frozenset[str] | None) -> None:
        self.values = {a.name: a.value for a in task.arguments}
        self.templated = templated  # None: unknown, so any Jinja counts as a template

    def get(self, name: str) -> object:
        """The literal value, a `Runtime`, or None when the task does not set it."""
        head, _, key = name.partition(".")
        if head not in self.values:
            return None
        value: object = self.values[head]
        if key:
            if isinstance(value, dict):
                if key not in value:
                    return None
                value = value[key]
            elif not _is_literal(value, False):
                return Runtime(head)
            else:
                return None
        templated = self.templated is None or head in self.templated
        return value if _is_literal(value, templated) else Runtime(name)

    def text(self, name: str, default: str | None = None) -> str | Runtime | None:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, Runtime):
            return value
        if isinstance(value, str):
            return value or default
        return None  # a literal of another type names no resource

    def prefix(self, name: str) -> str | Runtime | None:
        """A string argument's literal head: the whole value, or the text before its first template
        (``out/{{ ds }}/x`` -> ``out/`` + ``*``); Runtime when nothing of it is literal."""
        head, _, _ = name.partition(".")
        raw = self.values.get(head) if "." not in name else None
        if isinstance(raw, str) and _JINJA.search(raw) and (self.templated is None or head in self.templated):
            literal = raw[: _JINJA.search(raw).start()]  # type: ignore[union-attr]
            return literal + "*" if literal else Runtime(name)
        return self.text(name)

    def flag(self, name: str) -> bool:
        """True unless the argument is absent or literally false (a run-time value may be true)."""
        value = self.get(name)
        return value is not None and (isinstance(value, Runtime) or bool(value))


def _is_literal(value: object, templated: bool) -> bool:
    if isinstance(value, str):
        return not (templated and _JINJA.search(value))
    if isinstance(value, (bool, int, float)) or value is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_literal(v, templated) for v in value)
    if isinstance(value, dict):
        return all(_is_literal(v, templated) for v in value.values())
    return False  # Unresolved, XComRef, CallableRef, ObjectValue...


# ---------------------------------------------------------------------------------------------
# Resources: which literal argument names which ARN

Resolved = list[str] | Runtime | None
#: (resources, actions, conditions as (operator, key, value)) of one statement
Grant = tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str, str], ...]]

#: S3 (bucket argument, key argument, key is a prefix) pairs, over the provider's S3 operators,
#: sensors and transfers (their ``__init__`` parameter names).
_S3_PAIRS: Final = (
    ("bucket", "prefix", True), ("bucket_name", "prefix", True), ("bucket_name", "key", False),
    ("bucket_name", "keys", False), ("bucket_name", "bucket_key", False), ("s3_bucket", "s3_key", False),
    ("source_bucket_name", "source_bucket_key", False), ("dest_bucket_name", "dest_bucket_key", False),
    ("s3_bucket", "s3_artifacts_prefix", True), ("bucket", None, False), ("bucket_name", None, False),
    ("s3_bucket", None, False),
)
#: Bucket arguments of a copy's source: read, never written (S3CopyObjectOperator, S3CopyPrefixOperator).
_S3_READ_ONLY: Final = frozenset({"source_bucket_name"})
_S3_URL: Final = re.compile(r"^s3a?://([^/]+)/?(.*)$")


class _Resolver:
    def __init__(self, args: _Args, data: IamData, place: Place) -> None:
        self.args = args
        self.data = data
        self.place = place

    def arn(self, key: str, **values: str) -> str | None:
        template = self.data.arns.get(key)
        return fill(template, values, self.place) if template else None

    # -- S3 -------------------------------------------------------------------------------
    def s3(self, writing: bool = False) -> tuple[Resolved, Resolved]:
        """(bucket ARNs, object ARNs) the task's S3 arguments name; ``writing`` leaves out the
        sources of a copy, which are only read."""
        buckets: list[str] = []
        objects: list[str] = []
        runtime: Runtime | None = None
        for bucket_arg, key_arg, is_prefix in _S3_PAIRS:
            if writing and bucket_arg in _S3_READ_ONLY:
                continue
            bucket = self.args.text(bucket_arg)
            keys_value = self.args.get(key_arg) if key_arg else None
            key_list: list[str | Runtime] = []
            if isinstance(keys_value, list):
                key_list = [k for k in keys_value if isinstance(k, str)]
            elif key_arg and keys_value is not None:
                found = self.args.prefix(key_arg)
                if found is not None:
                    key_list = [found]
            if bucket is None:  # the key may be a full s3:// URL
                for key in key_list:
                    match = _S3_URL.match(key) if isinstance(key, str) else None
                    if match:
                        buckets.append(match.group(1))
                        objects.append(f"{match.group(1)}/{match.group(2) or '*'}")
                continue
            if isinstance(bucket, Runtime):
                runtime = runtime or bucket
                continue
            buckets.append(bucket)
            if key_arg is None or not key_list:
                continue
            for key in key_list:
                if isinstance(key, Runtime):
                    objects.append(f"{bucket}/*")
                    continue
                key = key + "*" if is_prefix and not key.endswith("*") else key
                objects.append(f"{bucket}/{key}")
        if buckets and not objects:
            objects = [f"{b}/*" for b in buckets]
        bucket_arns = [self.arn("s3:bucket", BucketName=b) for b in sorted(set(buckets))]
        object_arns = [self.arn("s3:object", BucketName=o.split("/", 1)[0], ObjectName=o.split("/", 1)[1])
                       for o in sorted(set(objects))]
        return (
            [a for a in bucket_arns if a] or runtime,
            [a for a in object_arns if a] or runtime,
        )

    # -- one name -> one ARN ----------------------------------------------------------------
    def named(self, key: str, argument: str, variable: str, default: str | None = None) -> Resolved:
        value = self.args.text(argument, default)
        if value is None or isinstance(value, Runtime):
            return value
        if is_arn(value):
            return [value]
        arn = self.arn(key, **{variable: value})
        return [arn] if arn else None

    def lambda_function(self) -> Resolved:
        name = self.args.text("function_name")
        if name is None or isinstance(name, Runtime):
            return name
        qualifier = self.args.text("qualifier")
        base = name if is_arn(name) else self.arn("lambda:function", FunctionName=name)
        if base is None:
            return None
        if isinstance(qualifier, str):
            return [f"{base}:{qualifier}"]
        return [base] if qualifier is None else [base, f"{base}:*"]

    def state_machine(self, execution: bool) -> Resolved:
        arn = self.args.text("state_machine_arn")
        if arn is None or isinstance(arn, Runtime):
            return arn
        if not is_arn(arn) or ":stateMachine:" not in arn:
            return Runtime("state_machine_arn") if _JINJA.search(arn) else None
        if not execution:
            return [arn]
        return [arn.replace(":stateMachine:", ":execution:", 1) + ":*"]

    def execution(self) -> Resolved:
        """An execution given whole (StepFunctionExecutionSensor, StepFunctionGetExecutionOutputOperator)."""
        arn = self.args.text("execution_arn")
        if arn is None or isinstance(arn, Runtime):
            return arn
        return [arn] if is_arn(arn) else None

    def job_run(self) -> Resolved:
        application = self.args.text("application_id")
        if application is None or isinstance(application, Runtime):
            return application
        arn = self.arn("emr-serverless:jobRun", ApplicationId=application, JobRunId="*")
        return [arn] if arn else None

    def ecs(self, kind: str) -> Resolved:
        cluster = self.args.text("cluster")
        if kind == "task-definition":
            family = self.args.text("task_definition")
            if family is None or isinstance(family, Runtime):
                return family
            if is_arn(family):
                return [family if ":" in family.rsplit("/", 1)[-1] else family + ":*"]
            name, _, revision = family.partition(":")
            arn = self.arn("ecs:task-definition", TaskDefinitionFamilyName=name,
                           TaskDefinitionRevisionNumber=revision or "*")
            return [arn] if arn else None
        if cluster is None or isinstance(cluster, Runtime):
            return cluster
        name = cluster.rsplit("/", 1)[-1] if is_arn(cluster) else cluster
        if kind == "cluster":
            return [self.arn("ecs:cluster", ClusterName=name) or ""]
        if kind == "task":
            return [self.arn("ecs:task", ClusterName=name, TaskId="*") or ""]
        return [self.arn("ecs:container-instance", ClusterName=name, ContainerInstanceId="*") or ""]

    def log_group(self, stream: bool) -> Resolved:
        group = self.args.text("awslogs_group")
        if group is None or isinstance(group, Runtime):
            return group
        if not stream:
            return [self.arn("logs:log-group", LogGroupName=group) or ""]
        prefix = self.args.prefix("awslogs_stream_prefix")
        prefix = prefix if isinstance(prefix, str) else "*"
        prefix = prefix if prefix.endswith("*") else prefix + "*"
        return [self.arn("logs:log-stream", LogGroupName=group, LogStreamName=prefix) or ""]

    def queue(self) -> Resolved:
        url = self.args.text("sqs_queue")
        if url is None or isinstance(url, Runtime):
            return url
        arn = url if is_arn(url) else queue_arn(url, self.place)
        return [arn] if arn else None

    def resolve(self, key: str, access: str = "") -> Resolved:
        """The ARNs of resource type ``key`` ("s3:bucket") that this task's arguments name, for an
        action of catalogue access level ``access`` ("Read", "Write"...)."""
        if key == "s3:object":
            return self.s3(writing=access not in ("Read", "List"))[1]
        handler = _RESOLVERS.get(key)
        return handler(self) if handler else None


_RESOLVERS: Final[dict[str, Callable[[_Resolver], Resolved]]] = {
    "s3:bucket": lambda r: r.s3()[0],
    "s3:object": lambda r: r.s3()[1],
    "glue:job": lambda r: r.named("glue:job", "job_name", "JobName"),
    "glue:crawler": lambda r: r.named("glue:crawler", "config.Name", "CrawlerName"),
    "lambda:function": lambda r: r.lambda_function(),
    "states:statemachine": lambda r: r.state_machine(False),
    "states:execution": lambda r: r.execution() or r.state_machine(True),
    # AthenaOperator defaults: workgroup="primary", catalog="AwsDataCatalog" (operators/athena.py)
    "athena:workgroup": lambda r: r.named("athena:workgroup", "workgroup", "WorkGroupName", "primary"),
    "athena:datacatalog": lambda r: r.named("athena:datacatalog", "catalog", "DataCatalogName", "AwsDataCatalog"),
    "ecs:task-definition": lambda r: r.ecs("task-definition"),
    "ecs:cluster": lambda r: r.ecs("cluster"),
    "ecs:task": lambda r: r.ecs("task"),
    "ecs:container-instance": lambda r: r.ecs("container-instance"),
    "logs:log-group": lambda r: r.log_group(False),
    "logs:log-stream": lambda r: r.log_group(True),
    "sqs:queue": lambda r: r.queue(),
    "states:express": lambda r: r.execution(),
    "emr-serverless:application": lambda r: r.named("emr-serverless:application", "application_id", "ApplicationId"),
    "emr-serverless:jobRun": lambda r: r.job_run(),
    "redshift-data:cluster": lambda r: r.named("redshift-data:cluster", "cluster_identifier", "ClusterName"),
    "sns:topic": lambda r: r.named("sns:topic", "target_arn", "TopicName"),
}


# ---------------------------------------------------------------------------------------------
# Hand-written knowledge the code does not show (each entry says where it comes from)


@dataclass(frozen=True, slots=True)
class PassRole:
    """An operator that hands a role to a service: ``iam:PassRole`` on the role(s) it names."""

    arguments: tuple[str, ...]  #: literal role ARN (or name) arguments; "a.b" is key b of dict a
    service: str  #: iam:PassedToService
    always: bool  #: needed even when no argument names the role (the role comes from elsewhere)
    source: str
    elsewhere: str | None = None  #: roles passed that no argument names, even when some are literal


PASS_ROLE: Final[dict[str, PassRole]] = {
    "airflow.providers.amazon.aws.operators.ecs.EcsRunTaskOperator": PassRole(
        ("overrides.taskRoleArn", "overrides.executionRoleArn"), "ecs-tasks.amazonaws.com", True,
        "Amazon ECS developer guide, 'IAM roles for tasks' (RunTask passes the task definition's task and "
        "execution roles); provider docs operators/ecs.rst 'IAM permissions' (apache/airflow#36864)",
        elsewhere="the task definition's task and execution roles"),
    "airflow.providers.amazon.aws.operators.glue.GlueJobOperator": PassRole(
        ("iam_role_arn", "iam_role_name"), "glue.amazonaws.com", False,
        "hooks/glue.py create_glue_job_config: CreateJob/UpdateJob send Role=<the execution role>"),
    "airflow.providers.amazon.aws.operators.glue_crawler.GlueCrawlerOperator": PassRole(
        ("config.Role",), "glue.amazonaws.com", False, "Glue API CreateCrawler/UpdateCrawler: Role"),
    "airflow.providers.amazon.aws.operators.emr.EmrServerlessStartJobOperator": PassRole(
        ("execution_role_arn",), "emr-serverless.amazonaws.com", True, "EMR Serverless API StartJobRun: executionRoleArn"),
    "airflow.providers.amazon.aws.operators.emr.EmrContainerOperator": PassRole(
        ("execution_role_arn",), "emr-containers.amazonaws.com", True, "EMR on EKS API StartJobRun: executionRoleArn"),
    "airflow.providers.amazon.aws.operators.lambda_function.LambdaCreateFunctionOperator": PassRole(
        ("role",), "lambda.amazonaws.com", True, "Lambda API CreateFunction: Role"),
    "airflow.providers.amazon.aws.operators.bedrock.BedrockCustomizeModelOperator": PassRole(
        ("role_arn",), "bedrock.amazonaws.com", True, "Bedrock API CreateModelCustomizationJob: roleArn"),
}

#: Actions the static union over all code paths includes but a task needs only when an argument
#: is set (the branch that calls them): (operator, action) -> (guarding argument, where).
GUARDS: Final[dict[tuple[str, str], tuple[Callable[[_Args], bool], str]]] = {
    ("airflow.providers.amazon.aws.operators.step_function.StepFunctionStartExecutionOperator",
     "states:RedriveExecution"): (lambda a: a.flag("is_redrive_execution"),
                                  "hooks/step_function.py start_execution: only if is_redrive_execution"),
    ("airflow.providers.amazon.aws.operators.glue.GlueJobOperator", "iam:GetRole"): (
        lambda a: a.flag("iam_role_name"), "hooks/glue.py get_iam_execution_role: only without iam_role_arn"),
    ("airflow.providers.amazon.aws.operators.glue.GlueJobOperator", "logs:FilterLogEvents"): (
        lambda a: a.flag("verbose"), "hooks/glue.py print_job_logs: only with verbose=True"),
    ("airflow.providers.amazon.aws.operators.glue.GlueJobOperator", "glue:BatchStopJobRun"): (
        lambda a: a.flag("stop_job_run_on_kill"), "operators/glue.py on_kill: only with stop_job_run_on_kill"),
    ("airflow.providers.amazon.aws.operators.glue.GlueJobOperator", "glue:GetJobRuns"): (
        lambda a: a.flag("resume_glue_job_on_retry"),
        "operators/glue.py _find_job_run_id_by_task_uuid: only with resume_glue_job_on_retry"),
    **{("airflow.providers.amazon.aws.operators.glue.GlueJobOperator", action): (
        lambda a: a.flag("update_config"),
        "hooks/glue.py initialize_job: update_job and update_tags run only with update_config")
       for action in ("glue:UpdateJob", "glue:GetTags", "glue:TagResource", "glue:UntagResource")},
    **{("airflow.providers.amazon.aws.operators.glue_crawler.GlueCrawlerOperator", action): (
        lambda a: a.get("config.Tags") is not None,
        "hooks/glue_crawler.py update_crawler: update_tags only when the config has Tags")
       for action in ("glue:GetTags", "glue:TagResource", "glue:UntagResource")},
    **{("airflow.providers.amazon.aws.operators.glue.GlueJobOperator", action): (
        lambda a: _local_script(a), "operators/glue.py upload_etl_script_to_s3: only for a local script_location")
       for action in ("s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject")},
}


def _local_script(args: _Args) -> bool:
    location = args.get("script_location")
    return isinstance(location, Runtime) or (isinstance(location, str) and not location.startswith("s3://"))


#: Actions whose resource type is a filter of the request, not the resource acted on: granted on
#: ``*`` with a condition naming the resource instead. action -> (operator, condition key, resource key).
CONDITIONED: Final[dict[str, tuple[str, str, str]]] = {
    # Amazon ECS developer guide, 'Amazon ECS identity-based policy examples': ListTasks is scoped
    # with the ecs:cluster condition key (a Fargate task has no container instance to name).
    "ecs:ListTasks": ("ArnEquals", "ecs:cluster", "ecs:cluster"),
}


#: What a target service does with the caller's credentials, which no boto3 call of the operator
#: shows: operator -> (actions, resource type key) added to the task.
IMPLIED: Final[dict[str, tuple[tuple[tuple[str, ...], str], ...]]] = {
    # Athena user guide, 'Access to Amazon S3' and 'Fine-grained access to databases and tables':
    # the caller needs S3 rights on the query result location and Glue catalog read rights.
    "airflow.providers.amazon.aws.operators.athena.AthenaOperator": (
        (("s3:GetBucketLocation", "s3:ListBucket"), "athena-output:bucket"),
        (("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"), "athena-output:object"),
        (("glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"), "athena-catalog"),
    ),
}


def _athena_output(resolver: _Resolver, objects: bool) -> Resolved:
    location = resolver.args.text("output_location")
    if location is None or isinstance(location, Runtime):
        return location
    match = _S3_URL.match(location)
    if not match:
        return None
    bucket, prefix = match.group(1), match.group(2)
    if not objects:
        return [resolver.arn("s3:bucket", BucketName=bucket) or ""]
    return [resolver.arn("s3:object", BucketName=bucket, ObjectName=(prefix or "") + "*") or ""]


def _athena_catalog(resolver: _Resolver) -> Resolved:
    database = resolver.args.text("database")
    if database is None or isinstance(database, Runtime):
        return database
    head = fill("arn:${Partition}:glue:${Region}:${Account}", {}, resolver.place)
    return [f"{head}:catalog", f"{head}:database/{database}", f"{head}:table/{database}/*"]


_IMPLIED_RESOLVERS: Final[dict[str, Callable[[_Resolver], Resolved]]] = {
    "athena-output:bucket": lambda r: _athena_output(r, False),
    "athena-output:object": lambda r: _athena_output(r, True),
    "athena-catalog": _athena_catalog,
}


# ---------------------------------------------------------------------------------------------
# Statements


@dataclass(slots=True)
class _Group:
    tasks: list[str] = field(default_factory=list)
    actions: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class TaskActions:
    """What one task was granted (for the report)."""

    task_id: str
    operator: str
    actions: tuple[str, ...]
    derived: bool  #: False when the operator's actions are not in the registry


def _sid(words: Iterable[str]) -> str:
    """``Task`` + the task ids in CamelCase: IAM allows only [A-Za-z0-9] in a Sid."""
    return "Task" + "".join(part[:1].upper() + part[1:] for w in words
                            for part in re.split(r"[^A-Za-z0-9]+", w) if part)


def _task_grants(
    task: Task, data: IamData, registry: Registry | None, place: Place, diagnostics: list[Diagnostic]
) -> tuple[list[Grant], TaskActions]:
    """(resources, actions, condition) triples for one task, and its action list."""
    rule = registry.resolve(task.operator).rule if registry is not None else None
    templated = rule.templated_fields if rule is not None and rule.templated_fields_static else None
    args = _Args(task, templated)
    resolver = _Resolver(args, data, place)
    derived = data.operator_actions(task.operator)
    if task.operator == EMPTY_OPERATOR_PATH or (rule is not None and rule.service == "core"):
        return [], TaskActions(task.task_id, task.operator, (), True)  # runs nothing on AWS
    if derived is None:
        reason = data.not_derived.get(task.operator, "not an Amazon provider operator")
        diagnostics.append(codes.make(codes.IAM_ACTIONS_UNKNOWN, task.span, task=task.task_id,
                                      operator=task.operator.rsplit(".", 1)[-1], reason=reason))
        return [], TaskActions(task.task_id, task.operator, (), False)
    actions = [a for a in derived if (task.operator, a) not in GUARDS or GUARDS[(task.operator, a)][0](args)]
    by_resources: dict[tuple[str, ...], set[str]] = {}
    runtime: dict[str, set[str]] = {}
    unscoped: set[str] = set()
    conditioned: list[Grant] = []
    for action in actions:
        prefix = action.split(":", 1)[0]
        types = data.resource_types(action)
        if action in CONDITIONED:
            operator, key, resource = CONDITIONED[action]
            found = resolver.resolve(resource)
            if isinstance(found, list) and found:
                conditioned += [(("*",), (action,), ((operator, key, arn),)) for arn in found]
                continue
        if not types:
            by_resources.setdefault(("*",), set()).add(action)
            continue
        arns: set[str] = set()
        late: set[str] = set()
        access = str(data.actions.get(action, {}).get("access", ""))
        for kind in types:
            found = resolver.resolve(f"{prefix}:{kind}", access)
            if isinstance(found, Runtime):
                late.add(found.argument)
            elif found:
                arns.update(a for a in found if a)
        if arns:
            by_resources.setdefault(tuple(sorted(arns)), set()).add(action)
            continue
        by_resources.setdefault(("*",), set()).add(action)
        for name in late:
            runtime.setdefault(name, set()).add(action)
        if not late:
            unscoped.add(action)
    for implied_actions, key in IMPLIED.get(task.operator, ()):
        found = _IMPLIED_RESOLVERS[key](resolver)
        arns_list = found if isinstance(found, list) and found else ["*"]
        by_resources.setdefault(tuple(sorted(arns_list)), set()).update(implied_actions)
        actions += implied_actions
        if isinstance(found, Runtime):
            runtime.setdefault(found.argument, set()).update(implied_actions)
        elif not found:
            unscoped.update(implied_actions)
    grants = [(res, tuple(sorted(acts)), ()) for res, acts in sorted(by_resources.items())] + conditioned
    passing = PASS_ROLE.get(task.operator)
    if passing is not None:
        roles: set[str] = set()
        late_roles: set[str] = set()
        for name in passing.arguments:
            value = args.text(name)
            if isinstance(value, Runtime):
                late_roles.add(value.argument)
            elif value:
                roles.add(value if is_arn(value) else
                          fill(data.arns.get("iam:role", ""), {"RoleNameWithPath": value}, place) or "*")
        if roles or late_roles or passing.always:
            condition = (("StringEquals", "iam:PassedToService", passing.service),)
            grants.append((tuple(sorted(roles)) or ("*",), ("iam:PassRole",), condition))
            actions.append("iam:PassRole")
            if roles and passing.elsewhere:
                diagnostics.append(codes.make(codes.IAM_ROLE_NOT_NAMED, task.span, task=task.task_id,
                                              detail=passing.elsewhere, roles=", ".join(sorted(roles))))
            if not roles:
                for name in sorted(late_roles):
                    runtime.setdefault(name, set()).add("iam:PassRole")
                if not late_roles:
                    unscoped.add("iam:PassRole")
    for name, acts in sorted(runtime.items()):
        diagnostics.append(codes.make(codes.IAM_RESOURCE_AT_RUN_TIME, task.span, task=task.task_id,
                                      argument=name, actions=", ".join(sorted(acts))))
    if unscoped:
        diagnostics.append(codes.make(codes.IAM_RESOURCE_UNSCOPED, task.span, task=task.task_id,
                                      actions=", ".join(sorted(unscoped))))
    return grants, TaskActions(task.task_id, task.operator, tuple(sorted(set(actions))), True)


def _service_statements(
    workflow: Workflow, data: IamData, place: Place, definition_bucket: str | None,
    definition_key: str | None, code_objects: Sequence[str], kms_key: str | None,
) -> list[dict[str, Any]]:
    """What MWAA Serverless itself does with the execution role (shared/SERVICE.md §1.4, §3.1 (d))."""
    group = f"{LOG_GROUP_PREFIX}{workflow.dag_id}*"
    logs = [fill(data.arns["logs:log-group"], {"LogGroupName": group}, place),
            fill(data.arns["logs:log-stream"], {"LogGroupName": group, "LogStreamName": "*"}, place)]
    statements: list[dict[str, Any]] = [{
        "Sid": "ServiceLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        "Resource": [a for a in logs if a],
    }]
    key = definition_key or f"{workflow.dag_id}.yaml"
    objects = [f"{definition_bucket or '*'}/{key}"]
    for uri in code_objects:
        match = _S3_URL.match(uri)
        if match:
            objects.append(f"{match.group(1)}/{match.group(2)}")
    statements.append({
        "Sid": "ServiceDefinitionAndCode",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": sorted({fill(data.arns["s3:object"], {"BucketName": o.split("/", 1)[0],
                                                          "ObjectName": o.split("/", 1)[1]}, place) or "*"
                            for o in objects}),
    })
    if kms_key:
        arn = kms_key if is_arn(kms_key) else fill(data.arns["kms:key"], {"KeyId": kms_key}, place)
        statements.append({
            "Sid": "ServiceEncryption",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            "Resource": [arn or "*"],
        })
    return statements


@dataclass(frozen=True, slots=True)
class RoleDerivation:
    """The derived role of one workflow, as data."""

    dag_id: str
    trust: dict[str, Any]
    policy: dict[str, Any]
    tasks: tuple[TaskActions, ...]
    diagnostics: tuple[Diagnostic, ...]
    #: Sid -> the tasks the statement serves (the Sid names them; this keeps the exact ids)
    statement_tasks: dict[str, tuple[str, ...]] = field(default_factory=dict)


def derive(
    workflow: Workflow,
    registry: Registry | None = None,
    *,
    data: IamData | None = None,
    place: Place = Place(),
    definition_bucket: str | None = None,
    definition_key: str | None = None,
    code_objects: Sequence[str] = (),
    kms_key: str | None = None,
) -> RoleDerivation:
    data = data or load_iam_data()
    diagnostics: list[Diagnostic] = []
    merged: dict[Grant, list[str]] = {}
    tasks: list[TaskActions] = []
    for task in workflow.tasks:
        grants, granted = _task_grants(task, data, registry, place, diagnostics)
        tasks.append(granted)
        for grant in grants:
            owners = merged.setdefault(grant, [])
            if task.task_id not in owners:
                owners.append(task.task_id)
    statements: list[dict[str, Any]] = []
    used: dict[str, int] = {}
    statement_tasks: dict[str, tuple[str, ...]] = {}
    for (resources, actions, condition), owners in merged.items():
        sid = _sid(owners)
        used[sid] = used.get(sid, 0) + 1
        sid = sid if used[sid] == 1 else f"{sid}{used[sid]}"
        statement_tasks[sid] = tuple(owners)
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Action": list(actions),
            "Resource": list(resources) if len(resources) > 1 else resources[0],
        }
        for operator, key, value in condition:
            statement.setdefault("Condition", {}).setdefault(operator, {})[key] = value
        statements.append(statement)
    statements += _service_statements(workflow, data, place, definition_bucket, definition_key,
                                      code_objects, kms_key)
    policy = {"Version": "2012-10-17", "Statement": statements}
    size = len(json.dumps(policy, separators=(",", ":")))
    if size > INLINE_POLICY_LIMIT:
        diagnostics.append(codes.make(codes.IAM_POLICY_TOO_LARGE, workflow.span, size=size,
                                      limit=INLINE_POLICY_LIMIT))
    account = place.account if place.account != "*" else None
    return RoleDerivation(
        dag_id=workflow.dag_id,
        trust=trust_policy(account),
        policy=policy,
        tasks=tuple(tasks),
        diagnostics=tuple(sorted(diagnostics, key=Diagnostic.sort_key)),
        statement_tasks=statement_tasks,
    )


def render(derivation: RoleDerivation, data: IamData | None = None) -> str:
    """The ``<dag_id>.iam.json`` text: deterministic, two-space indent, trailing newline."""
    data = data or load_iam_data()
    document = {
        "document_version": DOCUMENT_VERSION,
        "dag_id": derivation.dag_id,
        "generated_from": {
            "provider": f"apache-airflow-providers-amazon {data.provider_version}",
            "catalogue": f"{data.catalogue['distribution']} {data.catalogue['version']}",
        },
        "trust_policy": derivation.trust,
        "permissions_policy": derivation.policy,
        "tasks": {t.task_id: {"operator": t.operator, "actions": list(t.actions), "derived": t.derived}
                  for t in derivation.tasks},
    }
    return json.dumps(document, indent=2) + "\n"


def derive_role(
    workflow: Workflow, registry: Registry | None = None, **options: Any
) -> tuple[str, tuple[Diagnostic, ...]]:
    """For the batch (``convert --iam``): the ``<dag_id>.iam.json`` text and the warnings.

    ``options`` are those of `derive`: place (arns.Place), definition_bucket, definition_key,
    code_objects, kms_key, data.
    """
    derivation = derive(workflow, registry, **options)
    return render(derivation, options.get("data")), derivation.diagnostics


def output_name(dag_id: str) -> str:
    return f"{dag_id}.iam.json"


def roles_for_dags(
    dags: Iterable[DagResult], registry: Registry | None = None, **options: Any
) -> Iterator[tuple[str, str, RoleDerivation]]:
    """For ``convert --iam``: (file name, document text, derivation) for each converted DAG of a
    batch, in the order given; refused DAGs get no role. ``options`` as for `derive`."""
    data = options.pop("data", None) or load_iam_data()
    for dag in dags:
        if dag.converted:
            derivation = derive(dag.workflow, registry, data=data, **options)
            yield output_name(dag.dag_id), render(derivation, data), derivation


__all__ = ["IamData", "RoleDerivation", "Runtime", "TaskActions", "derive", "derive_role",
           "load_iam_data", "output_name", "render", "roles_for_dags"]
