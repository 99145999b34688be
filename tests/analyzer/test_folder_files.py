"""`__file__`, data files, template files and run-time values the user froze: what the analysis
reads from the DAG folder (and refuses to read), through analyze_module with a real folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dag_converter.analyzer import RunValues, analyze_module
from dag_converter.model import Unresolved

HEAD = '''\
import json, os
from datetime import datetime
from pathlib import Path
import yaml
from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
'''


def _bucket(root: Path, relative: str, body: str, **options: object) -> object:
    """The bucket_name of task 't' in DAG file `relative` whose body sets BUCKET."""
    source = HEAD + body + '''
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="t", bucket_name=BUCKET)
'''
    package = ".".join(relative.split("/")[:-1])
    analysis = analyze_module(source, relative, package=package, root=root, **options)  # type: ignore[arg-type]
    (workflow,) = analysis.workflows
    (argument,) = workflow.tasks[0].arguments
    return argument.value


def test_file_is_the_path_below_the_root(tmp_path: Path) -> None:
    body = 'BUCKET = f"{os.path.basename(__file__).replace(\'.py\', \'\')}-{Path(__file__).stem}-{__file__}"'
    assert _bucket(tmp_path, "team/sub/my_dag.py", body) == "my_dag-my_dag-team/sub/my_dag.py"
    assert _bucket(tmp_path, "team/my_dag.py", "BUCKET = os.path.dirname(__file__)") == "team"
    assert _bucket(tmp_path, "team/my_dag.py", "BUCKET = str(Path(__file__).parent / 'x.json')") == "team/x.json"


def test_data_files_beside_the_dag_file(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "t.json").write_text('{"bucket": "from-json"}')
    (tmp_path / "team" / "t.yaml").write_text("bucket: from-yaml\n")
    here = "HERE = os.path.dirname(os.path.abspath(__file__))\n"
    assert _bucket(tmp_path, "team/d.py", here + 'BUCKET = json.load(open(os.path.join(HERE, "t.json")))["bucket"]') \
        == "from-json"
    assert _bucket(tmp_path, "team/d.py", 'BUCKET = yaml.safe_load((Path(__file__).parent / "t.yaml").read_text())'
                                          '["bucket"]') == "from-yaml"
    assert _bucket(tmp_path, "team/d.py", here + 'with open(os.path.join(HERE, "t.yaml")) as f:\n'
                                                 '    BUCKET = yaml.load(f, Loader=yaml.SafeLoader)["bucket"]') \
        == "from-yaml"


@pytest.mark.parametrize(("setup", "body", "reason"), [
    (None, 'BUCKET = open("missing.json").read()', "does not exist"),
    (None, 'BUCKET = open("../outside.txt").read()', "outside the DAG folder"),
    (None, 'BUCKET = open("/etc/hostname").read()', "not a path below"),
    ("link", 'BUCKET = open("link.txt").read()', "outside the DAG folder"),
    ("big", 'BUCKET = open("big.txt").read()', "larger than"),
    ("date", 'BUCKET = yaml.safe_load(open("date.yaml"))', "values other than"),
    ("code", 'BUCKET = yaml.load(open("date.yaml"))', "without the safe loader"),
    (None, 'BUCKET = open("x.txt", "w")', "open() other than reading"),
])
def test_files_that_are_not_read(tmp_path: Path, setup: str | None, body: str, reason: str) -> None:
    root = tmp_path / "dags"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    if setup == "link":
        os.symlink(tmp_path / "outside.txt", root / "link.txt")
    (root / "big.txt").write_text("x" * 2000)
    (root / "date.yaml").write_text("day: 2024-01-01\n")
    from dag_converter.analyzer import DEFAULT_LIMITS
    from dataclasses import replace

    value = _bucket(root, "d.py", body, limits=replace(DEFAULT_LIMITS, file_bytes=1000))
    assert isinstance(value, Unresolved)
    assert reason in value.reason
    assert value.span.line == HEAD.count("\n") + 1


def test_no_folder_no_read() -> None:
    source = HEAD + 'BUCKET = open("t.json").read()\nwith DAG("d", start_date=datetime(2024, 1, 1), schedule=None):\n' \
                    '    S3CreateBucketOperator(task_id="t", bucket_name=BUCKET)\n'
    (workflow,) = analyze_module(source, "d.py").workflows
    assert isinstance(workflow.tasks[0].arguments[0].value, Unresolved)


def test_json_dumps_and_dedent(tmp_path: Path) -> None:
    assert _bucket(tmp_path, "d.py", 'BUCKET = json.dumps({"b": [1, "x"], "a": None}, sort_keys=True)') \
        == '{"a": null, "b": [1, "x"]}'
    assert _bucket(tmp_path, "d.py", 'import textwrap\nBUCKET = textwrap.dedent("""\n    a\n      b\n""")') \
        == "\na\n  b\n"


def test_json_dumps_of_an_unknown_value_is_that_value(tmp_path: Path) -> None:
    """The unknown part is the cause, named at its own place, not 'non-literal objects'."""
    body = 'from company_lib import stage\nBUCKET = json.dumps({"k": [f"{stage()}-x"]})'
    bucket = _bucket(tmp_path, "d.py", body)
    assert isinstance(bucket, Unresolved) and bucket.reason == "call to company_lib.stage() cannot be evaluated statically"
    bucket = _bucket(tmp_path, "d.py", 'BUCKET = f"{[stage()]}"'.replace("BUCKET", "from company_lib import stage\nBUCKET"))
    assert isinstance(bucket, Unresolved) and bucket.reason == "call to company_lib.stage() cannot be evaluated statically"
    bucket = _bucket(tmp_path, "d.py", 'BUCKET = json.dumps({"day": datetime(2024, 1, 1)})')
    assert isinstance(bucket, Unresolved) and "non-literal" in bucket.reason  # Python raises TypeError


def test_frozen_run_time_values_are_used_and_reported(tmp_path: Path) -> None:
    body = ('from airflow.models import Variable\n'
            'BUCKET = Variable.get("bucket") + "-" + os.environ["STAGE"] + "-" + os.getenv("REGION", "x")\n')
    source = HEAD + body + '''
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="t", bucket_name=BUCKET)
'''
    values = RunValues(variables=(("bucket", "b"),), environment=(("REGION", "eu"), ("STAGE", "prod")))
    analysis = analyze_module(source, "d.py", root=tmp_path, run_values=values)
    assert analysis.workflows[0].tasks[0].arguments[0].value == "b-prod-eu"
    assert [(d.code, d.span.line) for d in analysis.diagnostics] == [("DC205", 8)] * 3
    assert "'prod'" in analysis.diagnostics[1].message
    reads = analysis.workflows[0].reads
    assert [(r.kind, r.name) for r in reads] == [("variable", "bucket"), ("environment", "STAGE"),
                                                 ("environment", "REGION")]
    unfrozen = analyze_module(source, "d.py", root=tmp_path)
    assert unfrozen.workflows[0].tasks[0].arguments[0].value.source  # type: ignore[union-attr]
    assert not unfrozen.diagnostics
    assert [(r.kind, r.name) for r in unfrozen.workflows[0].reads][0] == ("variable", "bucket")


def test_import_through_an_unrelated_namespace_folder(tmp_path: Path) -> None:
    """`infra/` at the root without `s3_stack.py`: the import is code outside the folder, no crash."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "other.py").write_text("x = 1\n")
    value = _bucket(tmp_path, "d.py", "from infra.s3_stack import X\nBUCKET = X")
    # A name from outside the folder, as `from mylib import X`: a constant whose value is not known.
    assert isinstance(value, Unresolved) and "infra.s3_stack, a module outside the DAG folder" in value.reason
    value = _bucket(tmp_path, "d.py", "import infra.s3_stack\nBUCKET = infra.s3_stack.NAME")
    assert isinstance(value, Unresolved)


def test_template_file_is_inlined_relative_to_the_dag_file(tmp_path: Path) -> None:
    (tmp_path / "team" / "sql").mkdir(parents=True)
    (tmp_path / "team" / "sql" / "q.sql").write_text("select '{{ ds }}'\n")
    source = '''\
from datetime import datetime
from airflow import DAG
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    AthenaOperator(task_id="a", query="sql/q.sql", database="x", output_location="s3://o/")
    AthenaOperator(task_id="b", query="sql/../q.sql", database="x", output_location="s3://o/")
    AthenaOperator(task_id="c", query="select 1", database="x", output_location="s3://o/")
'''
    (workflow,) = analyze_module(source, "team/d.py", package="team", root=tmp_path).workflows
    queries = {t.task_id: next(a.value for a in t.arguments if a.name == "query") for t in workflow.tasks}
    assert queries["a"] == "select '{{ ds }}'\n"
    assert isinstance(queries["b"], Unresolved)
    assert queries["c"] == "select 1"
    (kept,) = analyze_module(source, "team/d.py", package="team", root=tmp_path, inline_templates=False).workflows
    assert next(a.value for a in kept.tasks[0].arguments if a.name == "query") == "sql/q.sql"


def test_bytes_literals_decode_to_text(tmp_path: Path) -> None:
    assert _bucket(tmp_path, "d.py", 'BUCKET = b"caf\\xc3\\xa9".decode()') == "caf\u00e9"
    assert _bucket(tmp_path, "d.py", 'BUCKET = b"abc".decode("ascii")') == "abc"
    raw = _bucket(tmp_path, "d.py", 'BUCKET = b"abc"')
    assert isinstance(raw, Unresolved) and "bytes" in raw.reason
    assert isinstance(_bucket(tmp_path, "d.py", 'BUCKET = (b"x" * 10**9).decode()'), Unresolved)


@pytest.mark.parametrize(("expression", "name", "source"), [
    ('os.environ["STAGE"]', "STAGE", "os.environ['STAGE']"),
    ('os.environ.get("STAGE", "dev")', "STAGE", "os.environ.get('STAGE')"),
    ('os.getenv("STAGE")', "STAGE", "os.getenv('STAGE')"),
    ('os.environ[PREFIX + "STAGE"]', "APP_STAGE", "os.environ['APP_STAGE']"),
    ('os.environ.get(f"{PREFIX}STAGE")', "APP_STAGE", "os.environ.get('APP_STAGE')"),
    ('environ["STAGE"]', "STAGE", "os.environ['STAGE']"),
    ('environ.get("STAGE")', "STAGE", "os.environ.get('STAGE')"),
    ('os.environ.setdefault("STAGE", "dev")', "STAGE", "os.environ.setdefault('STAGE')"),
    ('"b" if "STAGE" in os.environ else "c"', "STAGE", "os.environ"),
    ('Variable.get("stage")', "stage", "Variable.get('stage')"),
    ('Variable.get(PREFIX.lower() + "stage", deserialize_json=True)', "app_stage", "Variable.get('app_stage')"),
    ('BaseHook.get_connection("stage").login', "stage", "airflow.hooks.base.BaseHook.get_connection('stage')"),
])
def test_every_form_of_a_run_time_read_names_what_it_reads(tmp_path: Path, expression: str, name: str,
                                                          source: str) -> None:
    body = ("from os import environ\nfrom airflow.models import Variable\nfrom airflow.hooks.base import BaseHook\n"
            f'PREFIX = "APP_"\nBUCKET = {expression}\n')
    analysis = analyze_module(HEAD + body + '''
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="t", bucket_name=BUCKET)
''', "d.py", root=tmp_path)
    (workflow,) = analysis.workflows
    assert [(r.name, r.span.line) for r in workflow.reads] == [(name, 11)]
    value = workflow.tasks[0].arguments[0].value
    assert isinstance(value, Unresolved) and value.source == source


def test_membership_of_a_frozen_environment_variable_is_known(tmp_path: Path) -> None:
    body = 'BUCKET = "set" if "STAGE" in os.environ else "unset"\nOTHER = "X" not in os.environ\n'
    source = HEAD + body + '''
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="t", bucket_name=BUCKET)
'''
    analysis = analyze_module(source, "d.py", root=tmp_path, run_values=RunValues(environment=(("STAGE", "prod"),)))
    assert analysis.workflows[0].tasks[0].arguments[0].value == "set"
    assert [d.code for d in analysis.diagnostics] == ["DC205"]
    assert [(r.kind, r.name) for r in analysis.workflows[0].reads] == [("environment", "STAGE"), ("environment", "X")]


def test_connections_named_by_hooks_and_conn_id_arguments_are_listed(tmp_path: Path) -> None:
    source = HEAD + '''from airflow.providers.amazon.aws.hooks.s3 import S3Hook
HOOK = S3Hook(aws_conn_id="hook")
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None, default_args={"aws_conn_id": "dag"}):
    S3CreateBucketOperator(task_id="t", bucket_name="b", aws_conn_id="task")
'''
    (workflow,) = analyze_module(source, "d.py", root=tmp_path).workflows
    assert [(r.kind, r.name, r.span.line) for r in workflow.reads] == [
        ("connection", "hook", 8), ("connection", "dag", 9), ("connection", "task", 10)]
