"""Files, archive, module naming and requirements on their own; and what Airflow parses in the DAG folder."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from dag_converter.codepackage._root import FolderRoot
from dag_converter.codepackage.archive import PackageEntry, build_zip
from dag_converter.codepackage.files import FileReference, collect_files
from dag_converter.codepackage.module import module_name_for
from dag_converter.model import Span

from codepackage._support import build


def refs(*names: str) -> list[FileReference]:
    return [FileReference("t", "bash_command", n, Span("dag.py", i + 1, 1)) for i, n in enumerate(names)]


def test_files_come_only_from_inside_the_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.sh").write_text("echo secret\n")
    root = tmp_path / "dags"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "ok.sh").write_text("echo ok\n")
    os.symlink(tmp_path / "secret.sh", root / "scripts" / "link.sh")
    os.symlink(tmp_path, root / "escape")
    files, diagnostics = collect_files(refs("scripts/ok.sh", "scripts/link.sh", "../secret.sh", "/etc/hostname.sh",
                                            "escape/secret.sh", "scripts/missing.sh"), FolderRoot(root))
    assert [(f.path, f.data) for f in files] == [("scripts/ok.sh", b"echo ok\n")]
    assert [(d.span.line, d.message) for d in diagnostics] == [
        (2, "scripts/link.sh cannot go into the code package: it is a symbolic link, which the converter does not follow"),
        (3, "../secret.sh cannot go into the code package: the path leaves the DAG folder"),
        (4, "/etc/hostname.sh cannot go into the code package: it is an absolute path; the package holds paths "
            "relative to the DAG folder"),
        (5, "escape/secret.sh cannot go into the code package: it is a symbolic link, which the converter does not follow"),
        (6, "scripts/missing.sh cannot go into the code package: no such file in the DAG folder"),
    ]


def test_templates_are_looked_up_beside_the_dag_file_then_in_the_search_path(tmp_path: Path) -> None:
    root = tmp_path / "dags"
    (root / "team" / "sql").mkdir(parents=True)
    (root / "shared").mkdir()
    (root / "team" / "sql" / "a.sql").write_text("select 1;\n")
    (root / "shared" / "b.sql").write_text("select 2;\n")
    files, diagnostics = collect_files(refs("sql/a.sql", "b.sql"), FolderRoot(root), dag_dir="team",
                                       search_path=[str(root / "shared"), "/somewhere/else"])
    assert not diagnostics
    assert [(f.path, f.reason) for f in files] == [
        ("b.sql", "template of bash_command of task 't' (shared/b.sql)"),
        ("sql/a.sql", "template of bash_command of task 't' (team/sql/a.sql)"),
    ]


def test_files_a_template_includes_are_shipped_too(tmp_path: Path) -> None:
    root = tmp_path / "dags"
    (root / "sql" / "parts").mkdir(parents=True)
    (root / "sql" / "report.sql").write_text('{% include "sql/parts/head.sql" %}\n{% from "macros.sql" import m %}\n')
    (root / "sql" / "parts" / "head.sql").write_text('-- head\n{% include "sql/report.sql" %}\n')  # a loop
    (root / "sql" / "dynamic.sql").write_text("{% include params.part %}\n")
    (root / "sql" / "broken.sql").write_text("{% if %}\n")
    files, diagnostics = collect_files(refs("sql/report.sql", "sql/dynamic.sql", "sql/broken.sql"), FolderRoot(root))
    assert [f.path for f in files] == ["sql/broken.sql", "sql/dynamic.sql", "sql/parts/head.sql", "sql/report.sql"]
    assert [(d.span.line, d.message) for d in diagnostics] == [
        (2, "sql/dynamic.sql cannot go into the code package: it includes a template whose name is computed when "
            "it renders"),
        (3, "sql/broken.sql cannot go into the code package: Jinja cannot parse it (line 1: Expected an expression, "
            "got 'end of statement block'), so the files it includes are not known"),
        (1, "macros.sql cannot go into the code package: no such file in the DAG folder"),
    ]


def test_zip_is_deterministic_and_safe() -> None:
    entries = [PackageEntry("b.py", b"B = 1\n", "b"), PackageEntry("a/x.sh", b"echo\n", "x"),
               PackageEntry("a/__pycache__/x.cpython-311.pyc", b"\0", "cache"), PackageEntry("c.pyc", b"\0", "pyc")]
    data, manifest = build_zip(entries)
    assert data == build_zip(list(reversed(entries)))[0]
    assert [m.path for m in manifest] == ["a/x.sh", "b.py"]
    assert zipfile.ZipFile(io.BytesIO(data)).read("b.py") == b"B = 1\n"
    for bad in ("../x.py", "/abs.py", "a//b.py", "a\\b.py", ""):
        with pytest.raises(ValueError):
            build_zip([PackageEntry(bad, b"", "bad")])
    with pytest.raises(ValueError):
        build_zip([PackageEntry("a.py", b"1", "one"), PackageEntry("a.py", b"2", "two")])


def test_generated_module_names_are_identifiers_that_shadow_nothing() -> None:
    assert module_name_for("etl") == "etl_tasks"
    assert module_name_for("2024-sales.daily") == "dag_2024_sales_daily_tasks"
    assert module_name_for("etl", {"etl_tasks"}) == "etl_tasks_2"
    assert module_name_for("etl", {"etl_tasks", "etl_tasks_2"}) == "etl_tasks_3"


def test_generated_module_avoids_a_folder_module_of_the_same_name(tmp_path: Path) -> None:
    root = tmp_path / "dags"
    root.mkdir()
    (root / "etl_tasks.py").write_text("def helper():\n    return 1\n")
    dag = textwrap.dedent("""
        from etl_tasks import helper

        def work():
            return helper()
    """)
    (root / "etl.py").write_text(dag)
    from dag_converter.codepackage import Reference, build_package

    package = build_package("etl", [], dag, "etl.py", root, dag_file="etl.py", extra_references=[Reference("t", "work")])
    assert package.module_name == "etl_tasks_2"
    assert [f.path for f in package.files] == ["etl_tasks.py", "etl_tasks_2.py"]


_PROBE = """
import json, sys
from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], include_examples=False, safe_mode=True)
print(json.dumps({"dags": sorted([d, bag.dags[d].fileloc.rsplit("/", 1)[-1]] for d in bag.dags),
                  "errors": sorted(bag.import_errors), "parsed": sorted(s.file.rsplit("/", 1)[-1] for s in bag.dagbag_stats)}))
"""


def _dagbag(folder: Path, home: Path) -> dict[str, list]:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(folder)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "AIRFLOW_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_airflow_parses_no_dag_from_the_package_but_would_from_the_dag_file(tmp_path: Path) -> None:
    """The measurement behind module.py: Airflow 3.0.6's DagBag over the extracted package."""
    package = build("taskflow", "taskflow_etl.py")
    assert package.zip_bytes is not None
    dags = tmp_path / "dags"
    dags.mkdir()
    zipfile.ZipFile(io.BytesIO(package.zip_bytes)).extractall(dags)
    # Make the generated module one Airflow's safe mode does import (it names both words).
    module = dags / "taskflow_etl_tasks.py"
    module.write_text(module.read_text() + "\nimport airflow  # noqa: F401\n")
    (dags / "taskflow_etl.yaml").write_text("taskflow_etl:\n  tasks: {}\n")
    assert _dagbag(dags, tmp_path / "home") == {"dags": [], "errors": [], "parsed": ["taskflow_etl_tasks.py"]}
    source = Path(__file__).parents[2] / "fixtures/code_packages/taskflow/taskflow_etl.py"
    (dags / "taskflow_etl.py").write_text(source.read_text())
    assert _dagbag(dags, tmp_path / "home") == {"dags": [["taskflow_etl", "taskflow_etl.py"]], "errors": [],
                                                "parsed": ["taskflow_etl.py", "taskflow_etl_tasks.py"]}


_SHAPE = """
import inspect, json, sys
sys.path.append(sys.argv[1])
from airflow.models.dagbag import DagBag
from dagfactory import load_yaml_dags

def code(c):  # bytecode and constants; nested code objects (comprehensions) by their own code, not file:line
    return [c.co_code.hex(), [code(k) if hasattr(k, "co_code") else repr(k) for k in c.co_consts]]

def bound(fn, task):  # `transform(extract())` passes op_args, dag-factory op_kwargs: compare by parameter
    return dict(inspect.signature(fn).bind_partial(*task.op_args, **task.op_kwargs).arguments)

def shape(dag):
    out = {}
    for task_id, task in sorted(dag.task_dict.items()):
        fn = task.python_callable
        out[task_id] = {"upstream": sorted(task.upstream_task_ids), "multiple_outputs": task.multiple_outputs,
                        "kwargs": {k: repr(v) for k, v in sorted(bound(fn, task).items())},
                        "callable": [fn.__name__, code(fn.__code__)]}
    return out

ns = {}
load_yaml_dags(globals_dict=ns, dags_folder=sys.argv[1], suffix=["taskflow_etl.yaml"])
source = DagBag(dag_folder=sys.argv[2], include_examples=False).dags["taskflow_etl"]
yaml_dag = ns["taskflow_etl"]
modules = sorted({t.python_callable.__module__ for t in yaml_dag.task_dict.values()})
print(json.dumps({"same": shape(source) == shape(yaml_dag), "modules": modules, "yaml": shape(yaml_dag),
                  "source": shape(source)}))
"""

_TASKFLOW_YAML = """\
taskflow_etl:
  start_date: 2025-01-01
  schedule: null
  tasks:
    extract:
      decorator: airflow.sdk.task
      python_callable: taskflow_etl_tasks.extract
    transform:
      decorator: airflow.sdk.task
      python_callable: taskflow_etl_tasks.transform
      multiple_outputs: false
      data: +extract
    load:
      decorator: airflow.sdk.task
      python_callable: taskflow_etl_tasks.load
      rows: +transform
"""


def test_dag_factory_builds_the_taskflow_dag_from_the_package(tmp_path: Path) -> None:
    """dag-factory 1.0.0 `decorator:` tasks over the extracted package give the source DAG's tasks,
    wiring (XComArg objects, not strings) and the same functions (name and bytecode)."""
    package = build("taskflow", "taskflow_etl.py")
    assert package.zip_bytes is not None
    dags = tmp_path / "dags"
    dags.mkdir()
    zipfile.ZipFile(io.BytesIO(package.zip_bytes)).extractall(dags)
    (dags / "taskflow_etl.yaml").write_text(_TASKFLOW_YAML)
    source = Path(__file__).parents[2] / "fixtures/code_packages/taskflow/taskflow_etl.py"
    done = subprocess.run([sys.executable, "-c", _SHAPE, str(dags), str(source)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "AIRFLOW_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["modules"] == ["taskflow_etl_tasks"]
    assert result["yaml"]["load"]["kwargs"] == {"rows": "XComArg(<Task(_PythonDecoratedOperator): transform>)"}
    assert result["yaml"] == result["source"]
