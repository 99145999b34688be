"""The typed intermediate representation every pipeline stage shares.

The analyzer produces it, the targets check and normalise it, the emitter turns it into YAML.
Values are the statically evaluated Python values of a DAG file: plain scalars, lists and dicts, plus the few
Airflow notions that need a type of their own (dates, durations, XCom references, callables) and
`Unresolved`, which records why a value could not be known without running the file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Union


class Severity(str, Enum):
    """How bad a finding is; errors refuse the DAG they belong to."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Span:
    """A place in a source file. Lines and columns are 1-based (libcst columns are 0-based)."""

    path: str  #: the path as the user gave it
    line: int = 0  #: 0 when the finding concerns the whole file
    column: int = 0


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable code, where, what and how to fix it."""

    code: str  #: stable, e.g. "DC301"; never reused
    severity: Severity
    message: str
    span: Span
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.path, self.span.line, self.span.column, self.code, self.message)


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A value the analyzer cannot know without running the file."""

    reason: str
    span: Span
    source: str | None = None  #: set when the value is read at run time (os.environ, Variable.get, ...)


@dataclass(frozen=True, slots=True)
class DateTime:
    """A point in time as written: wall-clock fields plus the zone name (None means naive/UTC)."""

    value: _dt.datetime  #: naive wall-clock time in `tz`
    tz: str | None = None  #: IANA zone name; None or "UTC" mean UTC


@dataclass(frozen=True, slots=True)
class Duration:
    """A timedelta, kept as total seconds (float only when the source had sub-second precision)."""

    seconds: float

    @property
    def exact_seconds(self) -> int | float:
        return int(self.seconds) if float(self.seconds).is_integer() else self.seconds


@dataclass(frozen=True, slots=True)
class XComRef:
    """`task.output`, `XComArg(task)` or a TaskFlow result: the return value of another task."""

    task_id: str
    key: str = "return_value"
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class CallableRef:
    """A function passed as a value (python_callable, callbacks)."""

    qualname: str  #: dotted import path when importable, else "<file>.name"
    defined_in_file: bool
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class ObjectValue:
    """An instance of a known class built from static arguments, e.g. `Param(5, type="integer")`.

    `class_path` is the qualified name; `args` and `kwargs` are the evaluated arguments.
    """

    class_path: str
    args: tuple["Value", ...] = ()
    kwargs: tuple[tuple[str, "Value"], ...] = ()
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class EnumMember:
    """A member of an enum whose members do not compare equal to their values
    (`ClusterStates.ACTIVE`): the member itself is the value, `class_path(value)` rebuilds it."""

    class_path: str  #: the enum class, fully qualified
    name: str  #: the member's name, e.g. "ACTIVE"
    value: str | int  #: the member's value, e.g. "ACTIVE"


Scalar = Union[str, int, float, bool, None]
Value = Union[
    Scalar,
    list["Value"],
    tuple["Value", ...],
    dict[str, "Value"],
    DateTime,
    Duration,
    XComRef,
    CallableRef,
    ObjectValue,
    EnumMember,
    Unresolved,
]


def walk_values(value: object, *, keys: bool = False) -> Iterator[object]:
    """`value` and every value nested in it, depth first: list and tuple items, dict values (and
    keys, with `keys`), the arguments of an ObjectValue. The one walk every stage uses."""
    yield value
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from walk_values(item, keys=keys)
    elif isinstance(value, dict):
        for key, item in value.items():
            if keys:
                yield from walk_values(key, keys=keys)
            yield from walk_values(item, keys=keys)
    elif isinstance(value, ObjectValue):
        for item in value.args:
            yield from walk_values(item, keys=keys)
        for _, item in value.kwargs:
            yield from walk_values(item, keys=keys)


def find_unresolved(value: object) -> Unresolved | None:
    """The first Unresolved inside a (nested) value, or None when the value is fully known."""
    return next((v for v in walk_values(value, keys=True) if isinstance(v, Unresolved)), None)


# ---------------------------------------------------------------------------------------------
# Workflows


class TaskKind(str, Enum):
    """How a task was made: an operator class called directly, or a TaskFlow (`@task`) function."""

    OPERATOR = "operator"
    TASKFLOW = "taskflow"


@dataclass(frozen=True, slots=True)
class Argument:
    """A keyword argument as the source passed it."""

    name: str
    value: Value
    span: Span
    inherited_from: str | None = None  #: the task group whose default_args supplied it, if any


@dataclass(frozen=True, slots=True)
class TaskFlowCall:
    """What a TaskFlow task was made from: the decorated function and how it was called."""

    function: str  #: the decorated function's name as written
    callable: Value  #: a CallableRef to the function, or Unresolved when it has no importable form
    parameters: tuple[str, ...] | None = None  #: the function's parameter names; None when unknown
    call_arguments: tuple[str, ...] = ()  #: names the call passed (positional ones bound to parameters)


@dataclass(frozen=True, slots=True)
class Task:
    """One operator instance of a DAG."""

    task_id: str  #: Airflow's full id, `group.task` inside task groups with prefix_group_id
    operator: str  #: canonical qualified class path after legacy-name mapping
    span: Span
    arguments: tuple[Argument, ...] = ()  #: in source order, task_id and dag excluded
    upstream: tuple[str, ...] = ()  #: upstream task ids, sorted
    group: str | None = None  #: the task group id, if any
    kind: TaskKind = TaskKind.OPERATOR
    callable_name: str | None = None  #: for TaskFlow tasks, the decorated function
    mapped: bool = False  #: made with .expand()/.expand_kwargs() (dynamic task mapping)
    expand: tuple[str, ...] = ()  #: the argument names given to .expand(), sorted
    taskflow: TaskFlowCall | None = None  #: set for TaskFlow tasks


@dataclass(frozen=True, slots=True)
class TaskGroupInfo:
    """A task group as declared (used by the dag-factory target and the report)."""

    group_id: str  #: full id
    span: Span
    parent: str | None = None
    arguments: tuple[Argument, ...] = ()


@dataclass(frozen=True, slots=True)
class Workflow:
    """One DAG found in a file."""

    dag_id: str
    span: Span
    arguments: tuple[Argument, ...] = ()  #: DAG(...) keyword arguments in source order, dag_id excluded
    tasks: tuple[Task, ...] = ()
    groups: tuple[TaskGroupInfo, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  #: what the analyzer found about this DAG
    #: Variables, environment variables and connections its file (and the modules it imports) reads
    reads: tuple["RuntimeRead", ...] = ()


@dataclass(frozen=True, slots=True)
class RuntimeRead:
    """One read of the run-time environment by a DAG file: an Airflow Variable, an environment
    variable or a connection (the migration inventory in the report)."""

    kind: str  #: "variable", "environment" or "connection"
    name: str  #: '' when the name is not known statically
    span: Span


@dataclass(frozen=True, slots=True)
class FolderRead:
    """A file of the DAG folder a conversion depended on: a helper module, a data or template file,
    or a path looked up and not found (a module or file that later appears changes the result).
    A rerun converts the DAG file again when any of them has another `version` (batch/manifest.py)."""

    path: str  #: below the DAG folder root, '/'-separated
    #: "sha256:<hex>" (a local file's bytes), "etag:<etag>" (an S3 object), "dir", "missing", or
    #: another word for what cannot be read ("outside": a link out of the root; "special"; "large:<size>")
    version: str


@dataclass(frozen=True, slots=True)
class ModuleAnalysis:
    """What the analyzer found in one file."""

    path: str
    workflows: tuple[Workflow, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  #: file-level findings (parse errors, ...)
    #: every file of the DAG folder the analysis read or looked for, sorted by path
    folder_reads: tuple[FolderRead, ...] = ()


# ---------------------------------------------------------------------------------------------
# Conversion results (what the report and the CLI consume)


@dataclass(frozen=True, slots=True)
class PackageOutput:
    """A DAG's code package as written beside its YAML (`<dag_id>.code.zip`, convert --code-package)."""

    name: str  #: file name, e.g. "etl.code.zip"
    data: bytes  #: the zip, byte-identical across runs; b"" when restored from the manifest (already written)
    files: tuple[tuple[str, str], ...]  #: (path in the zip, why it is there), in archive order
    requirements_text: str  #: requirements.txt of what the package imports
    pip_command: str  #: what vendors the requirements into the package ("" when --build-deps installed them)
    digest: str = ""  #: sha256 of `data` (kept when the data is not)

    def __post_init__(self) -> None:
        if not self.digest and self.data:
            object.__setattr__(self, "digest", hashlib.sha256(self.data).hexdigest())

    @property
    def restored(self) -> bool:
        return not self.data


@dataclass(frozen=True, slots=True)
class DagResult:
    """The outcome for one DAG: the workflow, its findings, and its YAML when converted."""

    workflow: Workflow
    diagnostics: tuple[Diagnostic, ...]
    yaml_text: str | None  #: None when refused
    output_name: str | None = None  #: file name of the YAML, e.g. "etl.yaml"
    code_package: PackageOutput | None = None  #: the code the YAML's tasks run, when it needs any

    @property
    def dag_id(self) -> str:
        return self.workflow.dag_id

    @property
    def converted(self) -> bool:
        return self.yaml_text is not None

    def refuse(self, *diagnostics: Diagnostic) -> "DagResult":
        """This DAG refused: the diagnostics added (in sort order), no YAML and no output file."""
        merged = tuple(sorted((*self.diagnostics, *diagnostics), key=Diagnostic.sort_key))
        return DagResult(self.workflow, merged, None, None)

    def with_diagnostics(self, *diagnostics: Diagnostic) -> "DagResult":
        """The same outcome with findings added that do not refuse it (warnings, infos)."""
        merged = tuple(sorted((*self.diagnostics, *diagnostics), key=Diagnostic.sort_key))
        return DagResult(self.workflow, merged, self.yaml_text, self.output_name, self.code_package)


class FileStatus(str, Enum):
    """What became of one source file."""

    CONVERTED = "converted"
    PARTIAL = "partial"
    REFUSED = "refused"
    NO_DAGS = "no-dags"
    UNREADABLE = "unreadable"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        # The value, not "FileStatus.CONVERTED", wherever a status is formatted (f-strings, templates).
        return self.value

    @classmethod
    def of_dags(cls, dags: Sequence[DagResult]) -> "FileStatus":
        """A file with DAGs: converted when every DAG is, partial when some are, else refused."""
        converted = sum(1 for d in dags if d.converted)
        if converted == len(dags):
            return cls.CONVERTED
        return cls.PARTIAL if converted else cls.REFUSED


@dataclass(frozen=True, slots=True)
class FileResult:
    """The outcome for one source file."""

    path: str
    status: FileStatus
    diagnostics: tuple[Diagnostic, ...] = ()  #: file-level
    dags: tuple[DagResult, ...] = field(default_factory=tuple)
    #: files of the DAG folder its conversion read or looked for (helper modules, data and template
    #: files, the files a code package ships), sorted by path: a rerun redoes the file when one changes
    reads: tuple[FolderRead, ...] = ()

    def all_diagnostics(self) -> list[Diagnostic]:
        found = list(self.diagnostics)
        for dag in self.dags:
            found.extend(dag.diagnostics)
        return found

    def with_dags(self, dags: Sequence[DagResult]) -> "FileResult":
        """The same file with its DAG outcomes replaced and its status recomputed from them."""
        dags = tuple(dags)
        if len(dags) == len(self.dags) and all(a is b for a, b in zip(dags, self.dags)):
            return self
        return FileResult(self.path, FileStatus.of_dags(dags) if dags else self.status, self.diagnostics, dags,
                          self.reads)

    @classmethod
    def failed(cls, path: str, diagnostic: Diagnostic) -> "FileResult":
        """A file that could not be read or analysed at all (too large, unreadable, a crash)."""
        return cls(path, FileStatus.UNREADABLE, (diagnostic,))
