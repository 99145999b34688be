"""The code-package fixtures: exact files, reasons, requirements, and the packaged code runs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from codepackage._support import build, member, names, run_in_package

FIXTURES = [
    ("python_helper", "etl_python.py", None),
    ("bash_script", "bash_etl.py", None),
    ("taskflow", "taskflow_etl.py", None),
    ("custom_operator", "greet_dag.py", None),
    ("sql_http", "reporting.py", None),
    ("refused", "refused_etl.py", "nested_refused"),
]


def test_python_operator_with_a_helper_module(tmp_path: Path) -> None:
    package = build("python_helper", "etl_python.py")
    assert not package.diagnostics
    assert [(f.path, f.reason) for f in package.files] == [
        ("etl_python_tasks.py", "generated from etl_python.py: transform_rows and what they use; builds no DAG"),
        ("helpers/__init__.py", "module helpers: package of helpers.cleaning"),
        ("helpers/cleaning.py", "module helpers.cleaning: imported for name_of (etl_python.py:11); "
                                "defines summarize, python_callable of task 'summary'"),
        ("helpers/text.py", "module helpers.text: imported by helpers/cleaning.py"),
    ]
    assert dict(package.task_callables) == {"transform": "etl_python_tasks.transform_rows",
                                            "summary": "helpers.cleaning.summarize"}
    assert package.requirements.empty and package.requirements.preinstalled == ()
    module = member(package, "etl_python_tasks.py")
    # What the callable needs, decorator, default values and class included; nothing that builds a DAG.
    for needed in ("FACTOR = 3", "DEFAULT_ROWS = ", "def log_calls(", "class Scaler:", "@log_calls\ndef name_of(",
                   "import functools", "import os", "from helpers.cleaning import normalize"):
        assert needed in module
    for absent in ("UNUSED", "never_used", "DAG(", "PythonOperator", "from airflow", "with "):
        assert absent not in module
    result = run_in_package(package, tmp_path, """
        import etl_python_tasks, helpers.cleaning
        try:
            import etl_python
            dag_file = "importable"
        except ImportError:
            dag_file = "absent"
        print(json.dumps([etl_python_tasks.transform_rows(factor=2), helpers.cleaning.summarize(), dag_file]))
    """)
    assert result == [[{"name": "Ada", "score": 6, "sep": "/"}, {"name": "Grace", "score": 6, "sep": "/"}],
                      "summary", "absent"]


def test_bash_operator_scripts_keep_their_paths() -> None:
    package = build("bash_script", "bash_etl.py")
    assert not package.diagnostics
    assert [(f.path, f.reason) for f in package.files] == [
        ("scripts/load.sh", "template of bash_command of task 'load' (scripts/load.sh)"),
        ("scripts/run.bash", "run by bash_command of task 'run' (scripts/run.bash)"),
    ]
    assert package.module_name is None and not package.task_callables
    assert member(package, "scripts/load.sh") == (Path(__file__).parents[2] / "fixtures/code_packages/bash_script/"
                                                  "scripts/load.sh").read_text()


def test_taskflow_functions_pass_dicts_and_lists(tmp_path: Path) -> None:
    package = build("taskflow", "taskflow_etl.py")
    assert not package.diagnostics
    assert names(package) == ["taskflow_etl_tasks.py"]
    assert dict(package.task_callables) == {"extract": "taskflow_etl_tasks.extract",
                                            "transform": "taskflow_etl_tasks.transform",
                                            "load": "taskflow_etl_tasks.load"}
    assert dict(package.stripped_decorators) == {"extract": ("@task",), "transform": ("@task(multiple_outputs=False)",),
                                                 "load": ("@task",)}
    module = member(package, "taskflow_etl_tasks.py")
    assert "@task" not in module and "airflow" not in module
    result = run_in_package(package, tmp_path, """
        import taskflow_etl_tasks as t
        data = t.extract()
        rows = t.transform(data)
        print(json.dumps([type(data).__name__, type(rows).__name__, rows, t.load(rows)]))
    """)
    assert result == ["dict", "list", [{"amount": 3, "big": False}, {"amount": 12, "big": True},
                                       {"amount": 25, "big": True}], {"count": 3, "big": 2}]


def test_custom_operator_class_from_the_folder(tmp_path: Path) -> None:
    package = build("custom_operator", "greet_dag.py")
    assert not package.diagnostics
    assert [(f.path, f.reason) for f in package.files] == [
        ("operators/__init__.py", "module operators: package of operators.greeting"),
        ("operators/formatting.py", "module operators.formatting: imported by operators/greeting.py"),
        ("operators/greeting.py", "module operators.greeting: defines GreetingOperator, operator class of task 'hello'"),
    ]
    assert package.module_name is None and package.requirements.empty
    result = run_in_package(package, tmp_path, """
        from operators.greeting import GreetingOperator
        print(json.dumps(GreetingOperator(task_id="hello", name="world").execute({})))
    """)
    assert result == "Hello, world!"


def test_sql_and_http_operators_with_requirements(tmp_path: Path) -> None:
    package = build("sql_http", "reporting.py")
    assert not package.diagnostics
    assert [(f.path, f.reason) for f in package.files] == [
        ("clients/__init__.py", "module clients: package of clients.feed"),
        ("clients/feed.py", "module clients.feed: defines parse_feed, python_callable of task 'parse'"),
        ("sql/daily_report.sql", "template of sql of task 'report' (sql/daily_report.sql)"),
    ]
    # common.sql and http come with the Amazon provider, yaml with Airflow: only what the service lacks.
    assert package.requirements_text.splitlines()[3:] == [
        "apache-airflow-providers-postgres  # airflow.providers.postgres.hooks.postgres (clients/feed.py:18)",
        "xmltodict  # xmltodict (clients/feed.py:3)",
    ]
    assert package.requirements.preinstalled == ("pyyaml",)
    assert package.requirements.optional == ("ujson",)
    assert package.pip_command == ("pip install -r requirements.txt --target package --platform manylinux2014_x86_64 "
                                   "--python-version 3.12 --only-binary=:all:")
    result = run_in_package(package, tmp_path, """
        from clients.feed import parse_feed
        print(json.dumps(parse_feed("<feed><item>1</item></feed>")))
    """)
    assert result == {"feed": {"item": "1"}}


def test_callables_that_cannot_be_shipped_are_refused_at_their_line() -> None:
    package = build("refused", "refused_etl.py", "refused_etl")
    assert package.zip_bytes is None and package.refused
    found = [(d.span.path, d.span.line, d.code) for d in package.diagnostics]
    assert found == [
        ("refused_etl.py", 16, "DC343"),  # upload() reads BUCKET = Variable.get(...) (line 11)
        ("refused_etl.py", 20, "DC341"),  # inner() reads make_callable()'s suffix
        ("refused_etl.py", 27, "DC345"),  # run_for_dag() reads the DAG object of the with block
        ("refused_etl.py", 31, "DC340"),  # python_callable=lambda: 1
    ]
    messages = [d.message for d in package.diagnostics]
    assert "airflow.models.Variable.get (line 11)" in messages[0]
    assert "uses its local suffix" in messages[1]


def test_nested_taskflow_function_is_shipped_unless_it_captures_state() -> None:
    package = build("refused", "refused_etl.py", "nested_refused")
    assert [(d.span.line, d.code, d.message) for d in package.diagnostics] == [
        (42, "DC341", "capped is nested in nested_pipeline() and uses its local limit; a package cannot carry that state"),
    ]
    assert dict(package.task_callables) == {"plain": "nested_refused_tasks.plain"}
    assert package.zip_bytes is None


@pytest.mark.parametrize(("case", "dag_file", "dag_id"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_two_builds_are_byte_identical(case: str, dag_file: str, dag_id: str | None) -> None:
    first, second = build(case, dag_file, dag_id), build(case, dag_file, dag_id)
    assert first.zip_bytes == second.zip_bytes
    assert first.manifest_text == second.manifest_text and first.requirements_text == second.requirements_text
    if first.zip_bytes is None:
        return
    infos = zipfile.ZipFile(io.BytesIO(first.zip_bytes)).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {(i.date_time, i.external_attr >> 16, i.create_system) for i in infos} == {((1980, 1, 1, 0, 0, 0), 0o100644, 3)}
    assert not any("__pycache__" in i.filename or i.filename.endswith(".pyc") or i.filename.startswith("/")
                   for i in infos)


def test_operator_class_defined_in_the_dag_file_goes_into_the_generated_module(tmp_path: Path) -> None:
    root = tmp_path / "dags"
    root.mkdir()
    (root / "shout.py").write_text(
        "from datetime import datetime\n\nfrom airflow import DAG\nfrom airflow.models import BaseOperator\n\n"
        "SUFFIX = '!'\n\n\nclass ShoutOperator(BaseOperator):\n    def __init__(self, *, word: str, **kwargs):\n"
        "        super().__init__(**kwargs)\n        self.word = word\n\n    def execute(self, context):\n"
        "        return self.word.upper() + SUFFIX\n\n\n"
        "with DAG('shout', start_date=datetime(2025, 1, 1), schedule=None):\n    ShoutOperator(task_id='s', word='hi')\n")
    package = build("", "shout.py", root=root)
    assert not package.diagnostics
    assert dict(package.operator_paths) == {"s": "shout_tasks.ShoutOperator"}
    assert names(package) == ["shout_tasks.py"]
    assert "DAG(" not in member(package, "shout_tasks.py")
    result = run_in_package(package, tmp_path / "run", """
        from shout_tasks import ShoutOperator
        print(json.dumps(ShoutOperator(task_id="s", word="hi").execute({})))
    """)
    assert result == "HI!"
