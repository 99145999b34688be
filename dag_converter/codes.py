"""The one table of diagnostic codes.

Every finding the converter reports has a code declared here. Codes are grouped as in
shared/DESIGN.md: DC1xx input and parsing, DC2xx values that cannot be resolved statically, DC3xx
operators and parameters, DC4xx schedule and DAG arguments, DC5xx target limits, DC6xx deploying
to MWAA Serverless, DC9xx internal.
A code is never reused; a renamed code keeps its old name in `aliases`. docs/diagnostics.md is
generated from this table (`python -m dag_converter.docs`), and a test checks it is current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from dag_converter.model import Diagnostic, Severity, Span

_CODE_RE: Final = re.compile(r"^DC[1-69]\d\d$")
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Code:
    """A diagnostic code with its documentation."""

    code: str  #: "DC301"
    name: str  #: kebab-case, names the pattern flagged ("unsupported-operator")
    severity: Severity
    message: str  #: str.format template
    summary: str  #: "What it flags", one sentence
    why: str
    fix: str
    hint: str | None = None  #: str.format template shown under the message; `make(hint=...)` replaces it
    example: str | None = None  #: a complete DAG file that triggers the code
    example_file: str | None = None  #: or a fixture under fixtures/diagnostics/ (bytes-level input)
    aliases: tuple[str, ...] = ()
    example_target: str = "mwaa-serverless"  #: the --target the example is converted for
    example_dags_folder: str | None = None  #: and its --dags-folder


REGISTRY: dict[str, Code] = {}


def register(code: Code) -> Code:
    """Add a code to the table; duplicate codes or names fail at import time."""
    if not _CODE_RE.match(code.code):
        raise ValueError(f"malformed diagnostic code {code.code!r}")
    if not _NAME_RE.match(code.name) or code.name.startswith(("no-", "banned-")):
        raise ValueError(f"diagnostic name {code.name!r} must be kebab-case and name the pattern")
    if code.code in REGISTRY or any(c.name == code.name for c in REGISTRY.values()):
        raise ValueError(f"diagnostic {code.code} {code.name} registered twice")
    REGISTRY[code.code] = code
    return code


def make(code: Code, span: Span, *, hint: str | None = None, **fields: object) -> Diagnostic:
    """Build a Diagnostic for `code` at `span`, filling its message and hint templates.

    `hint`, when given, is this finding's own hint and replaces the code's hint template."""
    if hint is None and code.hint:
        hint = code.hint.format(**fields)
    if hint is not None and not hint.strip():
        hint = code.fix  # a code that takes a hint never shows a blank one: its documented fix stands in
    return Diagnostic(
        code=code.code,
        severity=code.severity,
        message=code.message.format(**fields),
        span=span,
        hint=hint,
    )


def documented_codes() -> list[Code]:
    return sorted(REGISTRY.values(), key=lambda c: c.code)


_S3_DAG_HEAD = '''from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator
'''

# --------------------------------------------------------------------------------------------
# DC1xx input and parsing

SYNTAX_ERROR = register(Code(
    "DC101", "syntax-error", Severity.ERROR,
    message="cannot parse: {detail}",
    summary="A file that is not valid Python.",
    why="The converter reads the source as Python; a file Airflow could not import either cannot be converted.",
    fix="Fix the syntax error; `python -m py_compile FILE` shows the same problem.",
    hint="fix the syntax at this line; python -m py_compile FILE shows the same error",
    example="from airflow import DAG\n\nwith DAG('broken') as dag\n    pass\n",
))
UNDECODABLE_FILE = register(Code(
    "DC102", "undecodable-file", Severity.ERROR,
    message="not valid {encoding} text: {detail}",
    summary="A file whose bytes are not text in its declared encoding (UTF-8 unless a coding header says otherwise).",
    why="Python itself refuses such a file, so Airflow never loaded it.",
    fix="Re-save the file as UTF-8, or add the right `# -*- coding: ... -*-` header.",
    hint="re-save the file as UTF-8, or declare its encoding in a '# -*- coding: ... -*-' line",
    example_file="DC102.py",
))
EMPTY_FILE = register(Code(
    "DC103", "empty-file", Severity.WARNING,
    message="file is empty",
    summary="A .py file with no content in a DAG folder.",
    why="An empty file defines no DAG; it is reported so a truncated upload does not go unnoticed.",
    fix="Delete the file or restore its content.",
    hint="delete the file or restore its content",
    example="",
))
UNREADABLE_FILE = register(Code(
    "DC104", "unreadable-file", Severity.ERROR,
    message="cannot read file: {detail}",
    summary="A file the converter could not open or read (permissions, vanished, I/O error, S3 error).",
    why="Nothing can be converted from a file that cannot be read.",
    fix="Check permissions and that the file exists, then run again.",
    hint="check the file's permissions and that it still exists, then run again",
))
FILE_WITHOUT_DAGS = register(Code(
    "DC105", "file-without-dags", Severity.INFO,
    message="no DAG found in this file",
    summary="A Python file that mentions DAGs but defines none the analyzer can see.",
    why="Helper modules in a DAG folder are normal; the report lists them so none is missed.",
    fix="Nothing to do for helper modules. If this file should define a DAG, check that it creates it at module level.",
    example="from airflow import DAG\n\nDEFAULTS = {'owner': 'data'}\n",
))
BINARY_FILE = register(Code(
    "DC106", "binary-file", Severity.ERROR,
    message="file holds binary data (NUL byte at offset {offset})",
    summary="A .py file that contains NUL bytes.",
    why="Python source never contains NUL bytes; the file is corrupt or not source.",
    fix="Restore the file from version control or remove it from the DAG folder.",
    hint="restore the file from version control or remove it from the DAG folder",
    example_file="DC106.py",
))
FILE_TOO_LARGE = register(Code(
    "DC107", "file-too-large", Severity.ERROR,
    message="file is {size} bytes, over the {limit}-byte limit",
    summary="A source file larger than the configured limit (--max-file-size, 5 MB by default).",
    why="Real DAG files are small; a huge file is generated data or an attack, and reading it costs memory and time.",
    fix="Raise the limit with --max-file-size if the file really is a DAG.",
    hint="raise the limit with --max-file-size if this file really is a DAG",
))
INPUT_TOO_COMPLEX = register(Code(
    "DC108", "input-too-complex", Severity.ERROR,
    message="{detail}",
    summary="Source nested too deeply, or a literal too large, to analyse safely.",
    why="The analyzer bounds recursion and work per file so hostile input cannot crash or stall a batch.",
    fix="Simplify the expression; real DAGs never need this depth.",
    hint="simplify the expression or split the literal",
))
NO_INPUT = register(Code(
    "DC109", "input-without-dags", Severity.ERROR,
    message="{detail}",
    summary="A path that does not exist, or a folder with no Python DAG files in it.",
    why="The run would convert nothing, which is almost always a wrong path.",
    fix="Check the path; folders are searched recursively for *.py files that mention DAG.",
    hint="check the path; folders are searched recursively for *.py files that mention DAG",
))
DUPLICATE_DAG_ID = register(Code(
    "DC110", "duplicate-dag-id", Severity.ERROR,
    message="DAG id {dag_id!r} is also defined in {other}",
    summary="Two DAGs with the same id in one run.",
    why="Both would be written to the same YAML file; Airflow itself would keep only one of them.",
    fix="Give each DAG a unique dag_id.",
    hint="give each DAG a unique dag_id",
))
UNSAFE_DAG_ID = register(Code(
    "DC111", "unsafe-dag-id", Severity.ERROR,
    message="DAG id {dag_id!r} cannot be used as a file name: {detail}",
    summary="A dag_id with characters outside [A-Za-z0-9_.-], or one that would write outside the output folder.",
    why="The YAML is written as <dag_id>.yaml; MWAA Serverless also requires plain ids.",
    fix="Use only letters, digits, '_', '.' and '-' in the dag_id.",
    hint="use only letters, digits, '_', '.' and '-' in the dag_id, at most 250 characters",
    example="from airflow import DAG\n\nwith DAG('../escape') as dag:\n    pass\n",
))
WRITE_FAILED = register(Code(
    "DC112", "output-write-failed", Severity.ERROR,
    message="cannot write {target}: {detail}",
    summary="The YAML or report could not be written (read-only folder, full disk, S3 error).",
    why="Writes are atomic: the previous file is left intact when a write fails.",
    fix="Free space or fix permissions on the output location and run again.",
    hint="free space or fix permissions on the output location, then run again",
))
STORAGE_ERROR = register(Code(
    "DC113", "storage-error", Severity.ERROR,
    message="{detail}",
    summary="An S3 request failed: no credentials, missing bucket, access denied, throttling that outlasted the retries.",
    why="The object could not be read or written; the rest of the batch still runs.",
    fix="Check the credentials, bucket name, region and IAM policy named in the message.",
    hint="check the credentials, bucket, region and IAM policy named in the message",
))
# DC114 and DC115 come from comparing the converted YAML with the files on disk (`--check`,
# `--diff`, `--fail-on-change`), never from a single source file, so they have no example.
STALE_OUTPUT = register(Code(
    "DC114", "stale-output", Severity.ERROR,
    message="{target} is out of date with DAG {dag_id}",
    hint="run dag-converter convert on this file and commit the YAML",
    summary="A YAML file that differs from what the converter produces from its DAG file now.",
    why="The Python DAG is the source of truth; a YAML that was not regenerated after an edit "
        "deploys the old workflow.",
    fix="Run `dag-converter convert` (or let the `dag-converter` pre-commit hook do it) and commit the YAML.",
))
MISSING_OUTPUT = register(Code(
    "DC115", "missing-output", Severity.ERROR,
    message="{target} does not exist for DAG {dag_id}",
    hint="run dag-converter convert on this file and commit the YAML",
    summary="A convertible DAG whose YAML file is not in the output folder.",
    why="Without the YAML the DAG never reaches MWAA Serverless.",
    fix="Run `dag-converter convert` (or let the `dag-converter` pre-commit hook do it) and commit the YAML.",
))
ORPHANED_OUTPUT = register(Code(
    "DC116", "orphaned-output", Severity.ERROR,
    message="{target} was written from {source}, which no longer defines DAG {dag_id}",
    hint="run dag-converter convert --prune to remove it (and commit the removal)",
    summary="A YAML file the converter wrote whose DAG file was deleted, or no longer defines that DAG.",
    why="A YAML left behind after its DAG was deleted or renamed keeps deploying a workflow nobody maintains.",
    fix="Run `dag-converter convert --prune`: it removes the YAML files the manifest says it wrote whose DAG is "
        "gone, and never a file it did not write.",
))
UNUSED_IGNORE = register(Code(
    "DC117", "unused-ignore", Severity.WARNING,
    message="`# dag-converter: ignore[{codes}]` {detail}",
    hint="remove the comment, or name the code of a warning or info reported on this line",
    summary="An inline `# dag-converter: ignore[...]` comment that silences nothing.",
    why="A stale ignore hides the next real finding on its line; an ignore of an error cannot work, "
        "because an error refuses the DAG whatever is ignored.",
    fix="Remove the comment or correct its codes; only warnings and infos can be ignored.",
    example='''import pendulum

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="etl", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    EmptyOperator(task_id="start")  # dag-converter: ignore[DC202]
''',
))
# DC120-DC122 come from the folder and the output as a whole (issue 16), not from one DAG file's
# text, so they have no example.
IGNORE_LINE_SKIPPED = register(Code(
    "DC120", "ignore-line-skipped", Severity.WARNING,
    message="line skipped: {line!r}: {detail}",
    hint="fix or remove the line; set airflowignore-syntax to match Airflow's [core] dag_ignore_file_syntax",
    summary="An .airflowignore line that is not a valid pattern, or one no engine can match in bounded time.",
    why="Regular expressions are matched with RE2 (linear time, repetition counts up to 1,000); a line "
        "RE2 cannot compile, a line over 4,096 characters or an invalid glob would otherwise stop the run "
        "or never finish. Airflow skips invalid lines too, so the files it names are converted.",
    fix="Fix or remove the line; look-arounds and back-references are not supported, and "
        "`airflowignore-syntax` in [tool.dag-converter] must match `[core] dag_ignore_file_syntax`.",
))
OUTPUT_FROM_OTHER_SOURCE = register(Code(
    "DC121", "output-from-other-source", Severity.ERROR,
    message="{target} was written from {other}, not from this file; not replaced",
    hint="rename one of the DAGs, or run with --force to replace it",
    summary="A YAML in the output folder that a run would replace with the YAML of a DAG from another file.",
    why="Two DAG files that define one dag_id in different runs (a file renamed, a copy in another "
        "folder) would silently overwrite each other's workflow.",
    fix="Give each DAG a unique dag_id, delete the old YAML, or run with --force.",
))
DAG_ID_CASE_COLLISION = register(Code(
    "DC122", "dag-id-case-collision", Severity.ERROR,
    message="DAG id {dag_id!r} differs only by case from {other}",
    hint="rename one of the DAGs so that their ids differ by more than case",
    summary="Two DAG ids in one output folder that differ only in upper and lower case.",
    why="Their YAML files collide on case-insensitive file systems (macOS, Windows): one overwrites the other.",
    fix="Rename one of the DAGs so that the ids differ by more than case.",
))

# --------------------------------------------------------------------------------------------
# DC2xx values that cannot be resolved statically

UNRESOLVED_VALUE = register(Code(
    "DC201", "unresolved-value", Severity.ERROR,
    message="{what} cannot be resolved statically: {reason}",
    summary="A value the converter cannot know without running the DAG file.",
    why="YAML holds fixed values. Guessing would write a DAG that differs from the Python one.",
    fix="Use a literal or a module-level constant, or move run-time values into `params` and pass them with --override-parameters.",
    hint="use a literal or a module-level constant",
    example=_S3_DAG_HEAD + '''from mylib import bucket_name

with DAG("dc201", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket=bucket_name())
''',
))
RUNTIME_VALUE = register(Code(
    "DC202", "runtime-value", Severity.ERROR,
    message="{what} is read at run time ({source}); a YAML file cannot hold it",
    summary="A value read from an Airflow Variable, an environment variable, a file or the network.",
    why="The value is only known when the DAG file runs; converting it would freeze one guess into the YAML.",
    fix="Use a Jinja template (`{{{{ var.value.name }}}}` is not available on MWAA Serverless), or a DAG `params` entry set with --override-parameters.",
    hint="use a literal, or a '{{{{ params.name }}}}' template in a templated field (set per run with --override-parameters)",
    example=_S3_DAG_HEAD + '''import os

with DAG("dc202", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket=os.environ["BUCKET"])
''',
))
RELATIVE_DATE = register(Code(
    "DC203", "relative-start-date", Severity.WARNING,
    message="{call} depends on the day the file is parsed; written as the fixed date {date}",
    summary="A start date computed relative to today (`days_ago(n)`, `datetime.now()` arithmetic).",
    why="Airflow re-evaluates it at every parse; YAML needs one date. The converter writes the date as of the conversion run.",
    fix="Replace it with a fixed `datetime(...)`; MWAA Serverless wants a start date in the future for scheduled workflows.",
    hint="replace it with a fixed datetime(...) in the future",
    example='''from airflow import DAG
from airflow.utils.dates import days_ago

with DAG("dc203", start_date=days_ago(1), schedule=None):
    pass
''',
))
FROZEN_RUN_TIME_VALUE = register(Code(
    "DC205", "frozen-run-time-value", Severity.WARNING,
    message="{what} is read at run time; written as the value you gave ({value})",
    hint="convert again when the value changes, or make it a params entry read through a template",
    summary="A Variable or environment variable read when the DAG file runs, given a value with --var or --env.",
    why="The YAML holds the value given at conversion time; a later change of the Variable or environment variable no longer reaches the workflow.",
    fix="Keep the value given with --var/--env current, or make it a DAG `params` entry set with --override-parameters.",
))
UNSUPPORTED_CONSTRUCT = register(Code(
    "DC204", "unsupported-construct", Severity.ERROR,
    message="{detail}",
    summary="Python the analyzer cannot follow where it shapes the DAG (a branch on an unknown condition, a loop over an unknown collection, ...).",
    why="The tasks or dependencies it creates depend on values only known at run time.",
    fix="Make the condition or collection a literal or module constant, or split the DAG.",
    hint="make the condition or collection a literal or module constant, or split the DAG",
    example=_S3_DAG_HEAD + '''import random

with DAG("dc204", start_date=datetime(2025, 1, 1), schedule=None):
    if random.random() > 0.5:
        S3ListOperator(task_id="list", bucket="b")
''',
))

# --------------------------------------------------------------------------------------------
# DC3xx operators and parameters

UNSUPPORTED_OPERATOR = register(Code(
    "DC301", "unsupported-operator", Severity.ERROR,
    message="{operator} does not run on {target}",
    summary="An operator class the target cannot run.",
    why="MWAA Serverless runs only Amazon provider operators and EmptyOperator.",
    fix="Use an Amazon provider operator (Python code can move to LambdaInvokeFunctionOperator, GlueJobOperator or BatchOperator), or pass --allow-operator CLASS_PATH.",
    hint="use an Amazon provider operator, or pass --allow-operator CLASS_PATH",
    example='''from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("dc301", start_date=datetime(2025, 1, 1), schedule=None):
    BashOperator(task_id="hello", bash_command="echo hello")
''',
))
UNKNOWN_ARGUMENT = register(Code(
    "DC302", "unknown-argument", Severity.ERROR,
    message="{operator} does not accept argument {argument!r}",
    summary="A keyword argument the operator's constructor does not take.",
    why="Airflow raises TypeError for unknown arguments when it builds the task; the YAML would fail the same way.",
    fix="Remove the argument or correct its spelling.",
    hint="remove the argument or correct its spelling",
    example=_S3_DAG_HEAD + '''
with DAG("dc302", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", prefx="in/")
''',
))
MISSING_ARGUMENT = register(Code(
    "DC303", "missing-argument", Severity.ERROR,
    message="{operator} requires argument {argument!r}",
    summary="A required constructor argument that the task does not pass (directly or through default_args).",
    why="Airflow raises TypeError when it builds the task.",
    fix="Pass the argument.",
    hint="pass the argument, directly or through default_args",
    example=_S3_DAG_HEAD + '''
with DAG("dc303", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list")
''',
))
LEGACY_NAME = register(Code(
    "DC304", "legacy-name", Severity.INFO,
    message="{old} rewritten to {new}",
    summary="An Airflow 2 or renamed provider name, rewritten to the name the target runs.",
    why="MWAA Serverless runs Airflow 3 and Amazon provider 9.32.0, where the old names are gone or deprecated.",
    fix="Nothing to do; update the Python source too if it will keep running on Airflow 3.",
    example='''from datetime import datetime

from airflow import DAG
from airflow.operators.dummy import DummyOperator

with DAG("dc304", start_date=datetime(2025, 1, 1), schedule=None):
    DummyOperator(task_id="start")
''',
))
NOT_ALLOWLISTED = register(Code(
    "DC305", "operator-outside-allowlist", Severity.WARNING,
    message="{operator} is an Amazon provider class missing from the MWAA Serverless documented allowlist",
    summary="An Amazon provider class that AWS does not list as supported on MWAA Serverless.",
    why="The service may reject the workflow when it is created.",
    fix="Test the workflow on MWAA Serverless, or use a listed operator.",
    hint="test the workflow on MWAA Serverless, or use an operator of the allowlist",
))
TEMPLATE_SYNTAX = register(Code(
    "DC306", "template-syntax-error", Severity.ERROR,
    message="Jinja template in {field!r} does not parse: {detail}",
    summary="A templated field whose Jinja text has a syntax error.",
    why="MWAA Serverless only reports it when the task runs.",
    fix="Fix the template.",
    hint="fix the Jinja syntax in this value",
    example=_S3_DAG_HEAD + '''
with DAG("dc306", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", prefix="{{ ds ")
''',
))
TEMPLATE_VARIABLE = register(Code(
    "DC307", "unsupported-template-variable", Severity.WARNING,
    message="template in {field!r} uses {variable!r}, which MWAA Serverless does not provide",
    summary="A Jinja variable outside the list MWAA Serverless documents (macros, ti, task_instance, params, ds, ds_nodash, ts, ts_nodash).",
    why="The template will fail or render empty on the service.",
    fix="Use one of the supported variables, or params.",
    hint="use ds, ts, params, ti or macros instead, or a params entry",
    example=_S3_DAG_HEAD + '''
with DAG("dc307", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", prefix="{{ var.value.prefix }}")
''',
))
UNTEMPLATED_TEMPLATE = register(Code(
    "DC308", "template-in-untemplated-field", Severity.WARNING,
    message="{field!r} is not a templated field of {operator}; the template will not be rendered",
    summary="Jinja text in an argument the operator does not render.",
    why="The operator receives the literal text, braces included.",
    fix="Move the value into a templated field, or drop the braces.",
    hint="move the value into a templated field, or drop the braces",
))
XCOM_UNTEMPLATED = register(Code(
    "DC309", "xcom-in-untemplated-field", Severity.ERROR,
    message="{field!r} of {operator} receives the XCom output of {task!r}, but it is not a templated field",
    summary="A task's `.output` passed to an argument that is not templated.",
    why="YAML can only pass XCom values through Jinja, and Jinja is only rendered in templated fields.",
    fix="Pass the value through a templated field, or restructure the tasks.",
    hint="pass the XCom through a templated field, or have the upstream task write where this task reads",
))
TASKFLOW_TASK = register(Code(
    "DC310", "taskflow-task", Severity.ERROR,
    message="TaskFlow task {task!r} (function {function}) does not run on {target}",
    summary="A `@task`-decorated Python function used as a task.",
    why="MWAA Serverless does not run TaskFlow tasks; the function body is Python code the YAML cannot carry.",
    fix="Convert with --code-package (MWAA Serverless then runs it from a code package), move the function's work to an Amazon operator (LambdaInvokeFunctionOperator, GlueJobOperator, BatchOperator), or use --target dag-factory.",
    hint="convert with --code-package to ship {function} in a code package beside the YAML, or use --target dag-factory",
))
MAPPED_TASK = register(Code(
    "DC311", "mapped-task", Severity.ERROR,
    message="dynamically mapped task {task!r} does not run on {target}",
    summary="`Operator.partial(...).expand(...)` dynamic task mapping.",
    why="MWAA Serverless does not support dynamic task mapping.",
    fix="Create one task per item with a loop over a literal list, or use --target dag-factory.",
    hint="create one task per item with a loop over a literal list, or use --target dag-factory",
))
CALLABLE_VALUE = register(Code(
    "DC312", "callable-argument", Severity.ERROR,
    message="{field!r} is the function {function}, which {target} YAML cannot reference",
    summary="A Python function passed as an argument (callbacks, python_callable, ...).",
    why="A function defined in the DAG file cannot be imported by name from YAML.",
    fix="Move the function into a module on the import path and reference it, or drop the argument.",
    hint="move the function into a module and import it, or drop the argument",
))
DUPLICATE_TASK_ID = register(Code(
    "DC313", "duplicate-task-id", Severity.ERROR,
    message="task id {task!r} is already used at line {other_line}",
    summary="Two tasks with the same id in one DAG.",
    why="Airflow raises DuplicateTaskIdFound when the DAG is loaded.",
    fix="Give each task a unique task_id.",
    hint="rename one of the tasks",
    example=_S3_DAG_HEAD + '''
with DAG("dc313", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="a")
    S3ListOperator(task_id="list", bucket="b")
''',
))
DEPENDENCY_CYCLE = register(Code(
    "DC314", "dependency-cycle", Severity.ERROR,
    message="dependency cycle: {cycle}",
    summary="Task dependencies that form a cycle.",
    why="Airflow refuses a DAG with a cycle.",
    fix="Remove one of the edges in the cycle.",
    hint="remove one of the edges in the cycle",
    example=_S3_DAG_HEAD + '''
with DAG("dc314", start_date=datetime(2025, 1, 1), schedule=None):
    a = S3ListOperator(task_id="a", bucket="a")
    b = S3ListOperator(task_id="b", bucket="b")
    a >> b >> a
''',
))
EDGE_LABEL = register(Code(
    "DC315", "edge-label", Severity.INFO,
    message="edge label {label!r} dropped; the dependency is kept",
    summary="An edge `Label` between tasks.",
    why="dag-factory YAML has no edge labels; labels only change the graph view.",
    fix="Nothing to do.",
))
ENV_VAR_IN_VALUE = register(Code(
    "DC316", "environment-variable-in-value", Severity.WARNING,
    message="{field!r} contains {variable!r}, which dag-factory replaces from the environment when it loads the YAML",
    summary="A `$VAR` or `${VAR}` in a value.",
    why="dag-factory runs os.path.expandvars over the whole file before parsing; the value may change at load time.",
    fix="Avoid `$` followed by a name in values, or make sure the variable is meant to be expanded.",
    hint="avoid '$NAME' in values, or make sure the variable is meant to be expanded when the YAML loads",
    example=_S3_DAG_HEAD + '''
with DAG("dc316", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", prefix="$HOME/in/")
''',
))
OPERATOR_ARGUMENT_UNSUPPORTED = register(Code(
    "DC317", "unsupported-operator-argument", Severity.ERROR,
    message="{field!r} {detail}",
    summary="An argument that the target cannot express or that the service rejects (verify, botocore_config, deferrable=True on MWAA Serverless).",
    why="MWAA Serverless rejects or does not support these arguments.",
    fix="Remove the argument.",
    hint="remove the argument; the service sets it",
    example=_S3_DAG_HEAD + '''
with DAG("dc317", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", verify=False)
''',
))
SERVICE_IGNORED_ARGUMENT = register(Code(
    "DC318", "service-ignored-argument", Severity.INFO,
    message="{field!r} is kept, but MWAA Serverless ignores it",
    summary="An argument MWAA Serverless documents as ignored (trigger_rule, owner, pool, aws_conn_id, ...).",
    why="dag-factory passes it on, so the YAML stays faithful, but the service does not act on it.",
    fix="Nothing to do; remove it if you rely on its effect.",
    example=_S3_DAG_HEAD + '''
with DAG("dc318", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", trigger_rule="all_done")
''',
))
PARAM_SCHEMA_DROPPED = register(Code(
    "DC319", "param-schema", Severity.WARNING,
    message="params[{name!r}] is a Param; its default is kept, its {parts} dropped",
    summary="A `Param(...)` with a type, description or other schema in DAG params.",
    why="MWAA Serverless params are plain name/value pairs.",
    fix="Nothing to do, unless a run relies on the schema to validate overrides.",
    hint="nothing to do unless runs rely on the schema to validate overrides",
))
UNRESOLVED_DEPENDENCY = register(Code(
    "DC320", "unresolved-dependency", Severity.ERROR,
    message="cannot tell which tasks {side} of {operator!r} refers to: {reason}",
    summary="A dependency between objects the analyzer cannot identify as tasks.",
    why="A dependency that is dropped or guessed would change the order tasks run in.",
    fix="Write dependencies between task variables, lists of them, or task groups.",
    hint="write dependencies between task variables, lists of them, or task groups",
))
CALLABLE_IN_DAG_FILE = register(Code(
    "DC330", "callable-in-dag-file", Severity.WARNING,
    message="{field!r} is {function}(), defined in the DAG file; dag-factory will run {file} to load it",
    summary="A function defined in the DAG file itself, written as `python_callable_name` + `python_callable_file` (dag-factory target).",
    why="dag-factory loads the function by executing the whole file as a module; if the file still defines the DAG, "
        "Airflow sees that DAG as well as the YAML one.",
    fix="Move the function into a module of the DAG folder and import it, or remove the DAG definition from the file once the YAML replaces it.",
    hint="keep {file} for its functions only, or move {function}() into a module and import it",
    example='''from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.python import PythonOperator


def hello():
    print("hello")


with DAG("dc321", start_date=datetime(2025, 1, 1), schedule=None):
    PythonOperator(task_id="hello", python_callable=hello)
''',
    example_target="dag-factory",
    example_dags_folder="$AIRFLOW_HOME/dags",
))
DAGS_FOLDER_UNKNOWN = register(Code(
    "DC331", "dags-folder-unknown", Severity.ERROR,
    message="{field!r} is {function}(), defined in the DAG file, and no --dags-folder says where that file will be",
    summary="A function defined in the DAG file when --dags-folder was not given (dag-factory target).",
    why="dag-factory's `python_callable_file` must be an absolute path on the machine that loads the YAML; "
        "the converter does not guess it.",
    fix="Pass --dags-folder with the Airflow dags folder, absolute or as an environment variable "
        "('$AIRFLOW_HOME/dags'), or move the function into a module and import it.",
    hint="pass --dags-folder /path/to/dags or --dags-folder '$AIRFLOW_HOME/dags'",
    example='''from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.python import PythonOperator


def hello():
    print("hello")


with DAG("dc322", start_date=datetime(2025, 1, 1), schedule=None):
    PythonOperator(task_id="hello", python_callable=hello)
''',
    example_target="dag-factory",
))
UNSUPPORTED_TASK_GROUP = register(Code(
    "DC332", "unsupported-task-group-shape", Severity.ERROR,
    message="{what} has no dag-factory 1.0 form: {reason}",
    summary="Task names or task-group uses that dag-factory 1.0 cannot build (dag-factory target).",
    why="dag-factory names tasks and groups by their bare names in one namespace per DAG, and cannot "
        "connect TaskFlow tasks inside task groups (KeyError in 1.0).",
    fix="Give every task and group a name unique in the DAG, or keep TaskFlow tasks outside groups.",
    hint="give every task and group a name unique in the DAG",
    example='''from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import TaskGroup

with DAG("dc323", start_date=datetime(2025, 1, 1), schedule=None):
    with TaskGroup("eu"):
        EmptyOperator(task_id="load")
    with TaskGroup("us"):
        EmptyOperator(task_id="load")
''',
    example_target="dag-factory",
))

INVALID_TASK_ID = register(Code(
    "DC322", "invalid-task-id", Severity.ERROR,
    message="task id {task!r} is not valid in Airflow: {detail}",
    summary="A task id longer than 250 characters (its task groups' prefix `group.` included), or with characters "
            "other than letters, digits, '_', '.' and '-'.",
    why="Airflow's validate_key (airflow/sdk/definitions/_internal/node.py, KEY_REGEX `^[\\w.-]+$`, "
        "max_length=250) raises ValueError when the task is built, so the DAG would not load.",
    fix="Rename the task with letters, digits, '_', '.' and '-' only.",
    hint="rename the task, e.g. {suggestion!r}",
    example=_S3_DAG_HEAD + '''
with DAG("dc322", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list keys", bucket="b")
''',
))

INVALID_GROUP_ID = register(Code(
    "DC323", "invalid-task-group-id", Severity.ERROR,
    message="task group id {group!r} is not valid in Airflow: {detail}",
    summary="A task group id longer than 200 characters, or with characters other than letters, digits, '_' and '-'.",
    why="Airflow's validate_group_key (airflow/sdk/definitions/_internal/node.py, GROUP_KEY_REGEX `^[\\w-]+$`, "
        "max_length=200) raises ValueError when the TaskGroup is made, so the DAG would not load. The rule "
        "applies to the group's own id; the ids of its tasks (`group.task` when prefix_group_id is on) are "
        "task ids (DC322, 250 characters).",
    fix="Rename the group with letters, digits, '_' and '-' only (a '.' separates a group from its tasks).",
    hint="rename the group, e.g. {suggestion!r}",
    example=_S3_DAG_HEAD + '''from airflow.sdk import TaskGroup

with DAG("dc323", start_date=datetime(2025, 1, 1), schedule=None):
    with TaskGroup("raw.data"):
        S3ListOperator(task_id="list", bucket="b")
''',
))

CALLBACK_DROPPED = register(Code(
    "DC321", "callback-dropped", Severity.WARNING,
    message="{field!r} ({function}) is dropped: a function defined in the DAG file cannot be referenced from YAML, and MWAA Serverless ignores callbacks",
    summary="A callback (on_failure_callback, ...) that is a function defined in the DAG file itself.",
    why="YAML can only name importable functions; MWAA Serverless does not run callbacks, so dropping it changes nothing there.",
    fix="Move the function into a module shipped with the workflow if another target needs it; use CloudWatch alarms on MWAA Serverless.",
    hint="use CloudWatch alarms on the workflow's runs instead of the callback",
    example=_S3_DAG_HEAD + '''

def alert(context):
    print("failed")


with DAG("dc321", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", on_failure_callback=alert)
''',
))

# --------------------------------------------------------------------------------------------
# DC340-DC349 code packages (dag_converter.codepackage): what a task's code needs and why a part of it
# cannot be shipped in the package that MWAA Serverless extracts into its DAG folder. These come from
# building a package, not from converting a file alone, so they have no `example` (tests/codepackage).

LAMBDA_CALLABLE = register(Code(
    "DC340", "lambda-callable", Severity.ERROR,
    message="{name} is a lambda; a code package can only name a function defined with def",
    hint="define the callable as a module-level function (def) and pass it by name",
    summary="A task callable (or a name it needs) that is a lambda expression.",
    why="The YAML names a callable as `module.function`; a lambda has no name a module could export, "
        "and rewriting it would change the code being run.",
    fix="Define the function with `def` at module level and pass its name.",
))
CLOSURE_CALLABLE = register(Code(
    "DC341", "closure-callable", Severity.ERROR,
    message="{name} is nested in {outer}() and uses its local {names}; a package cannot carry that state",
    hint="move the function to module level and pass what it captured as op_kwargs or call arguments",
    summary="A nested function (or a TaskFlow function inside a @dag function) that reads local variables of the function around it.",
    why="The local values exist only while the outer function runs when Airflow parses the DAG; "
        "a module in the package would define the function without them.",
    fix="Pass the values as arguments (op_kwargs, TaskFlow call arguments) or make them module-level constants.",
))
UNSHIPPABLE_IMPORT = register(Code(
    "DC342", "unshippable-import", Severity.ERROR,
    message="{module} is neither a module of the DAG folder nor provided by a known distribution",
    hint="move the code into the DAG folder, or name the distribution that provides the module",
    summary="Packaged code that imports a module from outside the DAG folder that no requirement provides.",
    why="The package must carry everything its code imports that MWAA Serverless does not pre-install; "
        "a module with no known distribution cannot be listed in requirements.txt.",
    fix="Move the module into the DAG folder, or name its distribution (import name = distribution) in the converter's requirements mapping.",
))
RUNTIME_MODULE_VALUE = register(Code(
    "DC343", "runtime-module-value", Severity.ERROR,
    message="{name} is assigned at module level from {source}, known only at run time",
    hint="make the module-level value a literal, or read it inside the function at run time",
    summary="A module-level name a packaged callable needs whose value comes from the environment, a Variable, a connection, a file or the clock.",
    why="The converter ships definitions it can read, never values it would have to compute by running the DAG file.",
    fix="Read the value inside the callable (at task run time) or make it a literal constant.",
))
UNDEFINED_CALLABLE_NAME = register(Code(
    "DC344", "undefined-callable-name", Severity.ERROR,
    message="{name} cannot be packaged: {reason}",
    hint="define the callable in the DAG file or a module of the DAG folder, or import it by name",
    summary="A callable, or a name it uses, that the converter cannot find as one module-level definition.",
    why="Without a single static definition the package would ship code that differs from what the DAG runs.",
    fix="Define the name once at module level (def, class, import or constant), without star imports.",
))
DAG_OBJECT_IN_CALLABLE = register(Code(
    "DC345", "dag-object-in-callable", Severity.ERROR,
    message="{name} is {what}; packaged code cannot use it",
    hint="keep DAG, TaskGroup and operator objects out of the callable's module-level code",
    summary="A packaged callable that uses the DAG, a task group or an operator object the DAG file builds.",
    why="The package's modules must build no DAG: MWAA Serverless extracts them into its DAG folder, where a "
        "module that builds a DAG is parsed as a second, Python DAG.",
    fix="Use the task context inside the callable (e.g. `context['dag']`) instead of the module-level object.",
))
PACKAGE_FILE_UNAVAILABLE = register(Code(
    "DC346", "package-file-unavailable", Severity.ERROR,
    message="{file} cannot go into the code package: {reason}",
    hint="put the file inside the DAG folder (no link leaving it) and keep it under the size limit",
    summary="A script, template or module that a task needs but that is missing, too large, or outside the DAG folder.",
    why="The package carries only files from inside the DAG folder, read without following links out of it.",
    fix="Put the file inside the DAG folder (not as a link to elsewhere), or raise the size limit.",
))
UNPINNED_REQUIREMENT = register(Code(
    "DC347", "unpinned-requirement", Severity.WARNING,
    message="the code package needs {distribution} and {source} does not pin it: {why}",
    hint="add `{distribution}==VERSION` (the version the DAG ran with) to the requirements file",
    summary="A distribution the code package's requirements.txt lists that the requirements file (--requirements, or the MWAA environment's) does not pin to one version.",
    why="Without a pin, requirements.txt and --build-deps take the newest release, which may not be the version the code ran with.",
    fix="Pin the distribution with `name==version` in the requirements file given with --requirements "
        "(migrate: the environment's requirements.txt).",
))
BUILD_DEPS_FAILED = register(Code(
    "DC348", "build-deps-failed", Severity.ERROR,
    message="--build-deps could not install {requirements} into the code package: {detail}",
    hint="check that every requirement has a wheel for manylinux2014_x86_64 and Python 3.12 (and that PyPI is reachable), or convert without --build-deps",
    summary="pip could not install the code package's requirements for the workers' platform (convert --build-deps).",
    why="The workers cannot build an sdist and have no internet by default, so a package whose requirements are "
        "not installed in it fails when its tasks import them.",
    fix="Pin versions that publish a wheel for Linux x86_64 and Python 3.12, make PyPI (or your index) reachable, "
        "or drop --build-deps and vendor the requirements yourself.",
))

# --------------------------------------------------------------------------------------------
# DC4xx schedule and DAG arguments

UNSUPPORTED_SCHEDULE = register(Code(
    "DC401", "unsupported-schedule", Severity.ERROR,
    message="schedule {schedule} cannot run on {target}: {detail}",
    summary="A schedule MWAA Serverless cannot run: assets/datasets, timetables, `@once`, `@continuous`, intervals with no cron equivalent.",
    why="MWAA Serverless schedules workflows with cron expressions only.",
    fix="Use a cron expression or None.",
    hint="use a 5-field cron expression, an accepted preset, or None",
    example='''from datetime import datetime

from airflow import DAG

with DAG("dc401", start_date=datetime(2025, 1, 1), schedule="@once"):
    pass
''',
))
SCHEDULE_REWRITTEN = register(Code(
    "DC402", "schedule-rewritten", Severity.INFO,
    message="schedule {old} written as {new}",
    summary="A schedule rewritten to an equivalent form the target accepts (timedelta -> cron).",
    why="MWAA Serverless takes cron expressions; the rewrite runs at the same times.",
    fix="Nothing to do.",
    example='''from datetime import datetime, timedelta

from airflow import DAG

with DAG("dc402", start_date=datetime(2025, 1, 1), schedule=timedelta(hours=6)):
    pass
''',
))
DAG_ARGUMENT_DROPPED = register(Code(
    "DC403", "dag-argument-dropped", Severity.WARNING,
    message="DAG argument {field!r} is dropped: {reason}",
    summary="A DAG argument that dag-factory does not pass to DAG() and MWAA Serverless ignores.",
    why="Keeping it would have no effect; dropping it is reported so nothing disappears silently.",
    fix="Nothing to do, unless the DAG relies on it.",
    hint="nothing to do, unless the DAG relies on it",
    example='''from datetime import datetime

from airflow import DAG

with DAG("dc403", start_date=datetime(2025, 1, 1), schedule=None, owner_links={"a": "https://x"}):
    pass
''',
))
DAG_ARGUMENT_UNSUPPORTED = register(Code(
    "DC404", "unsupported-dag-argument", Severity.ERROR,
    message="DAG argument {field!r} cannot be expressed in {target} YAML: {reason}",
    summary="A DAG argument with an effect that dag-factory YAML cannot express.",
    why="Dropping it would change what the DAG does.",
    fix="Remove the argument from the DAG, or keep this DAG in Python.",
    hint="remove the argument, or keep this DAG in Python",
))
SCHEDULE_INTERVAL = register(Code(
    "DC405", "schedule-interval", Severity.INFO,
    message="Airflow 2 argument schedule_interval written as schedule",
    summary="`schedule_interval`, removed in Airflow 3.",
    why="Airflow 3 and dag-factory 1.x only accept `schedule`.",
    fix="Rename the argument in the Python source too.",
    example='''from datetime import datetime

from airflow import DAG

with DAG("dc405", start_date=datetime(2025, 1, 1), schedule_interval="0 6 * * *"):
    pass
''',
))
PAST_START_DATE = register(Code(
    "DC406", "past-start-date", Severity.WARNING,
    message="start_date {date} is in the past; MWAA Serverless rejects a scheduled workflow whose first run is not in the future",
    summary="A scheduled DAG whose start date lies before the conversion day.",
    why="MWAA Serverless requires the first scheduled run of a workflow to be in the future.",
    fix="Move start_date forward before creating the workflow, or leave it: unscheduled workflows may keep a past date.",
    hint="move start_date to a future date before creating the workflow",
))

INVALID_DAG_ARGUMENT = register(Code(
    "DC407", "invalid-dag-argument", Severity.ERROR,
    message="DAG argument {field!r} {detail}",
    summary="A DAG argument that Airflow or MWAA Serverless refuses: params that are not a mapping, "
            "max_active_runs or max_active_tasks below 1, an end_date before the start_date.",
    why="The workflow would fail to load, or the service rejects it when it is created.",
    fix="Correct the value as the message says.",
    hint="correct the value in the DAG",
    example='''from datetime import datetime

from airflow import DAG

with DAG("dc407", start_date=datetime(2030, 1, 1), schedule=None, max_active_runs=0):
    pass
''',
))
MAX_ACTIVE_RUNS_OVER_QUOTA = register(Code(
    "DC413", "max-active-runs-over-quota", Severity.WARNING,
    message="max_active_runs={value} is over MWAA Serverless's default quota of {quota} concurrent runs",
    summary="A max_active_runs above the account's default quota of concurrent workflow runs.",
    why="MWAA Serverless validates max_active_runs against the account quota when the workflow is created.",
    fix="Lower max_active_runs, or ask for a higher quota before creating the workflow.",
    hint="lower max_active_runs to {quota}, or raise the account quota first",
    example='''from datetime import datetime

from airflow import DAG

with DAG("dc413", start_date=datetime(2030, 1, 1), schedule=None, max_active_runs=50):
    pass
''',
))
SERVICE_IGNORED_DAG_ARGUMENT = register(Code(
    "DC408", "service-ignored-dag-argument", Severity.INFO,
    message="DAG argument {field!r} is kept, but MWAA Serverless ignores it",
    summary="A DAG argument MWAA Serverless documents as ignored (tags, description, access_control, ...).",
    why="dag-factory passes it to DAG(), so the YAML stays faithful, but the service does not act on it.",
    fix="Nothing to do; pass a description with create-workflow --description if you want one.",
    example='''from datetime import datetime

from airflow import DAG

with DAG("dc408", start_date=datetime(2030, 1, 1), schedule=None, tags=["etl"]):
    pass
''',
))
SERVICE_IGNORED_DAG_BEHAVIOUR = register(Code(
    "DC409", "service-ignored-dag-behaviour", Severity.WARNING,
    message="DAG argument {field!r} is kept, but MWAA Serverless ignores it: {effect}",
    summary="A DAG argument the service ignores whose loss changes what runs (catchup=True, dagrun_timeout, ...).",
    why="The workflow runs, but not as the Python DAG does on Airflow.",
    fix="Do without the behaviour on MWAA Serverless, or keep this DAG on an Airflow that honours it.",
    hint="do without it on MWAA Serverless, or keep this DAG on an Airflow that honours it",
    example='''from datetime import datetime, timedelta

from airflow import DAG

with DAG("dc409", start_date=datetime(2030, 1, 1), schedule="@daily", dagrun_timeout=timedelta(hours=1)):
    pass
''',
))
DAG_ID_NOT_WORKFLOW_NAME = register(Code(
    "DC410", "dag-id-not-workflow-name", Severity.WARNING,
    message="DAG id {dag_id!r} cannot be a workflow name as is: {reason}",
    summary="A dag id that MWAA Serverless refuses as a workflow name (it must start with a letter or digit, "
            "at most 255 characters).",
    why="deploy names the workflow after the dag id; CreateWorkflow's Name pattern is "
        "`[a-zA-Z0-9]+[a-zA-Z0-9\\.\\-_]*` (botocore mwaa-serverless service model).",
    fix="Rename the DAG, or deploy with a --name-prefix that starts with a letter.",
    hint="rename the DAG or deploy with --name-prefix (e.g. --name-prefix wf-)",
    example='''from datetime import datetime

from airflow import DAG

with DAG("_dc410", start_date=datetime(2030, 1, 1), schedule=None):
    pass
''',
))
AIRFLOW2_DAG_ARGUMENT = register(Code(
    "DC411", "airflow2-dag-argument", Severity.INFO,
    message="Airflow 2 argument {old} written as {new}",
    summary="A DAG argument Airflow 3 renamed (`concurrency` -> `max_active_tasks`).",
    why="Airflow 3 and dag-factory 1.0 only accept the new name; the meaning is the same.",
    fix="Rename the argument in the Python source too.",
    example='''from datetime import datetime

from airflow import DAG

with DAG("dc411", start_date=datetime(2030, 1, 1), schedule=None, concurrency=4):
    pass
''',
))
ONCE_AS_MANUAL = register(Code(
    "DC412", "once-as-manual", Severity.WARNING,
    message="schedule '@once' written as an unscheduled workflow (--once-as manual); it runs only when started",
    summary="An `@once` DAG converted with --once-as manual.",
    why="MWAA Serverless does not accept `@once`; an unscheduled workflow started once after it is created "
        "runs the same single run.",
    fix="Start one run after creating the workflow.",
    hint="after creating the workflow, start its run: aws mwaa-serverless start-workflow-run --workflow-arn ARN",
))

# --------------------------------------------------------------------------------------------
# DC5xx target limits (MWAA Serverless)

RETRIES_OVER_LIMIT = register(Code(
    "DC501", "retries-over-limit", Severity.ERROR,
    message="retries={value} is over MWAA Serverless's limit of {limit}",
    summary="A task (or default_args) with more retries than MWAA Serverless allows (0-3).",
    why="The service rejects the value when the task runs.",
    fix="Use retries between 0 and 3.",
    hint="use retries between 0 and 3",
    example=_S3_DAG_HEAD + '''
with DAG("dc501", start_date=datetime(2025, 1, 1), schedule=None, default_args={"retries": 5}):
    S3ListOperator(task_id="list", bucket="b")
''',
))
RETRY_DELAY_OVER_LIMIT = register(Code(
    "DC502", "retry-delay-over-limit", Severity.ERROR,
    message="retry_delay of {value} s is over MWAA Serverless's limit of {limit} s",
    summary="A retry_delay longer than 300 seconds.",
    why="The service rejects the value when the task runs.",
    fix="Use a retry_delay of at most 5 minutes.",
    hint="use a retry_delay of at most 300 seconds",
    example=_S3_DAG_HEAD + '''from datetime import timedelta

with DAG("dc502", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", retry_delay=timedelta(minutes=10))
''',
))
EXECUTION_TIMEOUT_OVER_LIMIT = register(Code(
    "DC503", "execution-timeout-over-limit", Severity.ERROR,
    message="execution_timeout of {value} s is over MWAA Serverless's limit of {limit} s",
    summary="An execution_timeout longer than one hour.",
    why="The service rejects the value when the task runs.",
    fix="Use an execution_timeout of at most 1 hour, or split the work.",
    hint="use an execution_timeout of at most 3600 seconds, or split the work",
    example=_S3_DAG_HEAD + '''from datetime import timedelta

with DAG("dc503", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", execution_timeout=timedelta(hours=2))
''',
))
NEGATIVE_DURATION = register(Code(
    "DC505", "negative-duration", Severity.ERROR,
    message="{field} of {value} s is negative",
    summary="A retry_delay, execution_timeout or dagrun_timeout below zero.",
    why="MWAA Serverless accepts retry_delay of 0-300 s and execution_timeout up to 3600 s; a negative "
        "duration is refused (and means nothing to Airflow).",
    fix="Use a duration of zero or more.",
    hint="use a duration of zero seconds or more",
    example=_S3_DAG_HEAD + '''from datetime import timedelta

with DAG("dc505", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", retry_delay=timedelta(seconds=-30))
''',
))
NUMERIC_TIMEOUT = register(Code(
    "DC506", "numeric-timeout", Severity.ERROR,
    message="{field}={value!r} is a number; Airflow requires a timedelta",
    summary="An execution_timeout or dagrun_timeout given as a plain number of seconds.",
    why="Airflow 3.0.6 refuses both: BaseOperator raises ValueError(\"execution_timeout must be timedelta "
        "object but passed as type: ...\") (airflow/sdk/bases/operator.py) and DAG validates dagrun_timeout "
        "with attrs.validators.instance_of(timedelta) (airflow/sdk/definitions/dag.py), so the Python DAG "
        "itself does not load.",
    fix="Write the timeout as timedelta(seconds=N).",
    hint="write {field}=timedelta(seconds={value})",
    example=_S3_DAG_HEAD + '''
with DAG("dc506", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b", execution_timeout=60)
''',
))

TASK_GROUP_FLATTENED = register(Code(
    "DC504", "task-group-flattened", Severity.INFO,
    message="task group {group!r} flattened; its tasks keep the ids {example}",
    summary="A TaskGroup, whose tasks are written as plain tasks with Airflow's `group.task` ids.",
    why="MWAA Serverless does not support task groups; keeping the ids keeps run history and XCom ids the same.",
    fix="Nothing to do.",
    example=_S3_DAG_HEAD + '''from airflow.utils.task_group import TaskGroup

with DAG("dc504", start_date=datetime(2025, 1, 1), schedule=None):
    with TaskGroup("extract"):
        S3ListOperator(task_id="list", bucket="b")
''',
))

# The execution role (`dag-converter iam`, `convert --iam`; issue 18). Raised while deriving the
# role, never by a conversion, so they have no example file (tests/iam/ exercises them).
IAM_RESOURCE_AT_RUN_TIME = register(Code(
    "DC510", "iam-resource-at-run-time", Severity.WARNING,
    message="execution role: task {task!r} argument {argument!r} is known only at run time; {actions} granted on \"*\"",
    summary="A task whose resource (bucket, job, function...) comes from a template, an XCom or a run-time value, so its role statement cannot name it.",
    why="Params and templates can change per run; a role narrowed to one value would fail the other runs.",
    fix="Pass the resource as a literal to get a narrowed statement, or narrow the Resource of that statement by hand.",
    hint="Edit the statement whose Sid names {task!r} in the .iam.json before creating the role.",
))
IAM_RESOURCE_UNSCOPED = register(Code(
    "DC511", "iam-resource-unscoped", Severity.WARNING,
    message="execution role: no argument of task {task!r} names the resource of {actions}; granted on \"*\"",
    summary="An action that applies to a resource no argument of the task names (e.g. the roles of an ECS task definition).",
    why="The converter narrows a statement only from a literal argument whose ARN format it knows.",
    fix="Narrow the Resource of that statement by hand, or pass the resource as an argument.",
    hint="narrow the Resource of this statement by hand",
))
IAM_ACTIONS_UNKNOWN = register(Code(
    "DC512", "iam-actions-unknown", Severity.WARNING,
    message="execution role: the actions of task {task!r} ({operator}) are not derived: {reason}",
    summary="A task whose operator class has no derived IAM actions (abstract bases, EC2 resource API, operators outside the Amazon provider).",
    why="The registry derives actions statically from the provider's code; some classes do not call boto3 in a way it can follow.",
    fix="Add the task's actions to the role by hand.",
    hint="add the task's actions to the role by hand",
))

IAM_ROLE_NOT_NAMED = register(Code(
    "DC513", "iam-role-not-named", Severity.WARNING,
    message="execution role: task {task!r} also passes roles no argument names ({detail}); iam:PassRole lists only {roles}",
    summary="An operator that passes roles from elsewhere (an ECS task definition's task and execution roles) besides the literal ones.",
    why="Those roles are in a resource the converter cannot read, so the PassRole statement cannot name them.",
    fix="Add the missing role ARNs to the iam:PassRole statement of that task.",
    hint="add the missing role ARNs to this task's iam:PassRole statement",
))

IAM_POLICY_TOO_LARGE = register(Code(
    "DC514", "iam-policy-too-large", Severity.WARNING,
    message="execution role: the permissions policy is {size} characters; IAM allows {limit} for a role's inline policies",
    summary="A workflow whose derived permissions policy is over IAM's size quota for a role's inline policies.",
    why="IAM rejects PutRolePolicy over the quota (10,240 characters, whitespace not counted), so the role cannot be created as written.",
    fix="Attach the statements as one or more customer managed policies (6,144 characters each) or split the DAG.",
    hint="attach the statements as customer managed policies, or split the DAG",
))

# --------------------------------------------------------------------------------------------
# DC6xx deploying to MWAA Serverless (`dag-converter deploy`); reported at the DAG's source line

WORKFLOW_NAME_INVALID = register(Code(
    "DC601", "invalid-workflow-name", Severity.ERROR,
    message="DAG {dag_id!r} cannot be deployed as workflow {name!r}: {reason}",
    summary="A dag id (with the --name-prefix) that MWAA Serverless refuses as a workflow name.",
    why="Workflow names are 1-255 characters, start with a letter or digit and hold only letters, digits, "
        "'.', '-' and '_'; Airflow also accepts a leading '_', '.' or '-'. The name is checked before any call.",
    fix="Rename the DAG, or pass a --name-prefix that starts with a letter.",
    hint="rename the DAG or deploy with --name-prefix (e.g. --name-prefix wf-)",
    example="dag-converter deploy out --definitions s3://b/wf/ --role-arn ARN  # DAG '_load' -> DC601",
))
SERVICE_VALIDATION = register(Code(
    "DC602", "workflow-rejected", Severity.ERROR,
    message="{operation} of workflow {name!r} rejected ({reason}): {detail}",
    hint="fix the fields the message names, then deploy again",
    summary="MWAA Serverless answered ValidationException: a field, the definition, the role or the S3 location is not accepted.",
    why="The service validates the definition, the role and the settings when a workflow is created or updated; "
        "nothing was changed for this workflow.",
    fix="Fix the fields named in the message (FieldList), then deploy again.",
    example="dag-converter deploy out --role-arn ARN  # definition not readable -> DC602 DefinitionS3Location",
))
WORKFLOW_CONFLICT = register(Code(
    "DC603", "workflow-conflict", Severity.ERROR,
    message="{operation} of workflow {name!r} conflicts with {resource}: {detail}",
    summary="MWAA Serverless answered ConflictException: the workflow exists already or is busy.",
    why="Workflow names are unique in an account; someone created this one between the listing and the "
        "create, or the workflow is being deleted.",
    fix="Deploy again: the rerun finds the workflow and updates it.",
    hint="run the same deploy again",
    example="dag-converter deploy out --role-arn ARN  # created by someone else meanwhile -> DC603",
))
THROTTLED = register(Code(
    "DC604", "throttled", Severity.ERROR,
    message="{operation} of workflow {name!r} still throttled after {attempts} attempts",
    summary="MWAA Serverless kept answering ThrottlingException (or InternalServerException) after the retries.",
    why="Each retry waits the RetryAfterSeconds the service asks for; the workflow is left as it was.",
    fix="Deploy again later, or ask for a higher quota (the message names it).",
    hint="run the same deploy again later; quota {quota}",
    example="dag-converter deploy out --role-arn ARN  # rate limit -> DC604",
))
ACCESS_DENIED = register(Code(
    "DC605", "deploy-access-denied", Severity.ERROR,
    message="{operation} of workflow {name!r} denied: {detail}",
    summary="The deploying identity may not call this operation (AccessDeniedException, or S3 AccessDenied).",
    why="Creating a workflow needs airflow-serverless:CreateWorkflow and TagResource, iam:PassRole on the "
        "execution role, and read access to the definition in S3.",
    fix="Grant the named action to the identity that runs deploy (docs/migration.md lists them).",
    hint="grant {action} to the identity running deploy",
    example="dag-converter deploy out --role-arn ARN  # no airflow-serverless:CreateWorkflow -> DC605",
))
DEPLOY_FAILED = register(Code(
    "DC606", "deploy-failed", Severity.ERROR,
    message="{operation} of workflow {name!r} failed: {detail}",
    hint="see the message for the service's answer; fix the cause and deploy again (the rest deployed)",
    summary="Any other failure of one workflow's deploy (quota, a missing workflow, an S3 error, no network).",
    why="One workflow failing never stops the others; the run exits 1.",
    fix="Act on the message, then deploy again: what is already deployed is left alone.",
    example="dag-converter deploy out --role-arn ARN  # ServiceQuotaExceededException -> DC606",
))
SERVICE_WARNING = register(Code(
    "DC607", "workflow-warning", Severity.WARNING,
    message="{operation} of workflow {name!r}: the service warns: {detail}",
    summary="A Warnings entry in the CreateWorkflow or UpdateWorkflow response.",
    why="The workflow was deployed, but the service points at something that may not run as intended.",
    fix="Read the warning; change the DAG if it applies.",
    hint="read the service's warning and change the DAG if it applies",
    example="dag-converter deploy out --role-arn ARN  # Warnings: [...] -> DC607",
))
DEFINITION_UNREADABLE = register(Code(
    "DC608", "definition-unreadable", Severity.ERROR,
    message="the YAML of DAG {dag_id!r} ({file}) cannot be read: {detail}",
    summary="The manifest names a YAML file that is missing or unreadable in the output folder.",
    why="deploy sends what convert wrote (after your review); without the file there is nothing to deploy.",
    fix="Run convert again into the same output folder.",
    hint="run dag-converter convert again with the same --output",
    example="rm out/etl.yaml; dag-converter deploy out --role-arn ARN  # -> DC608",
))
WORKFLOW_SETTING_INVALID = register(Code(
    "DC609", "invalid-workflow-setting", Severity.ERROR,
    message="DAG {dag_id!r} cannot be deployed: {detail}",
    hint="fix the setting the message names (tags, name prefix, network, log group), then deploy again",
    summary="A per-DAG workflow setting (its tags) that the service would refuse.",
    why="Workflows take at most 50 tags, keys of 1-128 characters and values of up to 256; checked before any call.",
    fix="Shorten or drop the DAG's tags, or pass fewer --tag flags.",
    example="dag-converter deploy out --role-arn ARN  # a DAG with 60 tags -> DC609",
))
RETRIED = register(Code(
    "DC610", "request-retried", Severity.INFO,
    message="{operation} of workflow {name!r} was throttled {count} time(s) and succeeded on retry",
    summary="A request MWAA Serverless throttled once or more before it succeeded.",
    why="Shown so a slow deploy has a visible cause.",
    fix="Nothing to do.",
    example="dag-converter deploy out --role-arn ARN  # one ThrottlingException, then success -> DC610",
))
ENCRYPTION_UNCHANGED = register(Code(
    "DC611", "encryption-unchanged", Severity.WARNING,
    message="workflow {name!r} stays encrypted with {current}; --kms-key {wanted} applies only when a workflow is created",
    summary="--kms-key differs from the encryption of a workflow that exists already.",
    why="MWAA Serverless fixes a workflow's encryption when it is created (UpdateWorkflow has no "
        "EncryptionConfiguration); the rest of the deploy goes on.",
    fix="Delete the workflow and deploy again to create it with the new key (its run history goes with it).",
    hint="delete workflow {name} and deploy again to encrypt it with this key",
    example="dag-converter deploy out --role-arn ARN --kms-key alias/new  # existing workflow on another key -> DC611",
))
WORKFLOW_DEPLOYED = register(Code(
    "DC612", "workflow-deployed", Severity.INFO,
    message="workflow {name!r} {done}",
    summary="What deploy changed for one workflow: created, updated (and why), retagged, deleted, or a run started.",
    why="A deploy's results are reported like its errors, at the DAG's source line, so one list says what happened.",
    fix="Nothing to do.",
    example="dag-converter deploy out --role-arn ARN  # -> DC612 workflow 'etl' created (version 3f0c...)",
))
ROLE_FILE_MISSING = register(Code(
    "DC613", "role-file-missing", Severity.ERROR,
    message="DAG {dag_id!r} has no usable execution role file {file}: {detail}",
    summary="With deploy --create-roles: the DAG's <dag_id>.iam.json is missing or is not a role document.",
    why="--create-roles creates each workflow's role from the file convert --iam wrote (after your review); "
        "without it the workflow would have no role, so this DAG is not deployed. The others go on.",
    fix="Run convert with --iam into the same output folder, review the role, and deploy again.",
    hint="run dag-converter convert --iam with the same --output, then deploy again",
    example="dag-converter convert dags -o out; dag-converter deploy out --create-roles  # no out/etl.iam.json -> DC613",
))
ROLE_DEPLOYED = register(Code(
    "DC614", "execution-role-deployed", Severity.INFO,
    message="execution role {name!r} of workflow {workflow!r} {done}",
    summary="What deploy --create-roles changed for one workflow's execution role: created or updated (and why).",
    why="Reported at the DAG's source line, beside what happened to its workflow (DC612).",
    fix="Nothing to do.",
    example="dag-converter deploy out --create-roles  # -> DC614 execution role 'dag-converter-etl' ... created",
))

# --------------------------------------------------------------------------------------------
# DC9xx internal

INTERNAL_ERROR = register(Code(
    "DC901", "internal-error", Severity.ERROR,
    message="internal error while converting this file: {detail}",
    summary="A bug in dag-converter.",
    why="The file is reported as failed and the rest of the run goes on.",
    fix="Report it with the file (or a reduced copy) and the message.",
    hint="report it with the file (or a reduced copy) and the message",
))
VERIFY_DIFFERENCE = register(Code(
    "DC902", "verification-difference", Severity.ERROR,
    message="round trip differs: {detail}",
    summary="With --verify: the YAML, loaded by dag-factory, builds a DAG that differs from the Python file loaded by Airflow.",
    why="The converter must never write YAML that runs differently; a difference is a converter bug, so the DAG is refused and nothing is written.",
    fix="Report it with the DAG file; keep this DAG in Python until it is fixed.",
    hint="report it with the DAG file, and keep this DAG in Python until it is fixed",
))
VERIFY_SKIPPED = register(Code(
    "DC903", "verification-skipped", Severity.WARNING,
    message="not verified: {detail}",
    summary="With --verify: the Python file or the YAML could not be loaded for the comparison (e.g. an Airflow 2-only import).",
    why="Verification needs Airflow 3 to import the source; the conversion itself is static and still written.",
    fix="Update the source's imports for Airflow 3 to verify it, or review the YAML by hand.",
    hint="update the source's imports for Airflow 3 to verify it, or review the YAML by hand",
))
