"""collect(): the closure of a callable, and each refusal at its line, on small DAG folders."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from dag_converter.codepackage import Reference, build_package
from dag_converter.codepackage.collect import collect
from dag_converter.codepackage.requirements import derive_requirements


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "dags"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def closure_of(tmp_path: Path, dag: str, *names: str, files: dict[str, str] | None = None, **options: object):
    root = folder(tmp_path, {"dag.py": dag, **(files or {})})
    source = (root / "dag.py").read_text()
    refs = [Reference("t", n, taskflow=n.startswith("tf_")) for n in names]
    return collect(source, "dag.py", root, refs, dag_file="dag.py", **options)  # type: ignore[arg-type]


def codes_at(closure) -> list[tuple[int, str]]:
    return [(d.span.line, d.code) for d in closure.diagnostics]


def test_decorators_defaults_and_base_classes_are_followed(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        import json as j
        from collections import OrderedDict

        LIMIT = 2
        NAMES = ("a", "b")[:LIMIT]

        def traced(func):
            return func

        class Base:
            kind = "base"

        class Child(Base):
            def rows(self):
                return OrderedDict(kind=self.kind)

        @traced
        def work(names=NAMES, *, child: Child = Child()):
            return j.dumps([names, child.rows()])

        def unrelated():
            return 1
    """, "work")
    assert not closure.diagnostics
    assert [(d.kind, d.name) for d in closure.definitions] == [
        ("import", "j"), ("import", "OrderedDict"), ("constant", "LIMIT"), ("constant", "NAMES"),
        ("function", "traced"), ("class", "Base"), ("class", "Child"), ("function", "work"),
    ]
    assert closure.definitions[0].code == "import json as j"
    assert closure.definitions[-1].code.startswith("@traced\ndef work(")


@pytest.mark.parametrize(("value", "source"), [
    ('os.environ["X"]', "os.environ"),
    ('os.getenv("X")', "os.getenv"),
    ('open("conf.txt").read()', "file read"),
    ('Path("conf.txt").read_text()', "file read"),
    ("datetime.now()", "datetime.datetime.now"),
    ('Variable.get("x")', "airflow.models.Variable.get"),
])
def test_module_values_known_only_at_run_time_are_refused(tmp_path: Path, value: str, source: str) -> None:
    closure = closure_of(tmp_path, f"""
        import os
        from datetime import datetime
        from pathlib import Path
        from airflow.models import Variable

        SETTING = {value}

        def work():
            return SETTING
    """, "work")
    assert codes_at(closure) == [(10, "DC343")]
    assert source in closure.diagnostics[0].message and "(line 7)" in closure.diagnostics[0].message


def test_a_value_derived_from_a_runtime_value_is_refused_too(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        import os
        BASE = os.environ["BASE"]
        PATH = BASE + "/x"

        def work():
            return PATH
    """, "work")
    assert codes_at(closure) == [(4, "DC343")]


def test_operators_and_dags_at_module_level_are_refused(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        from airflow.providers.standard.operators.empty import EmptyOperator
        START = EmptyOperator(task_id="start")

        def work():
            return START.task_id
    """, "work")
    assert codes_at(closure) == [(6, "DC345")]


def test_star_imports_and_double_bindings_are_refused(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        from settings import *

        MODE = "a"
        if True:
            MODE = "b"

        def uses_star():
            return BUCKET

        def uses_mode():
            return MODE
    """, "uses_star", "uses_mode", files={"settings.py": "BUCKET = 'b'\n"})
    assert [(d.span.line, d.code, d.message) for d in closure.diagnostics] == [
        (9, "DC344", "BUCKET cannot be packaged: it may come from a star import"),
        (12, "DC344", "MODE cannot be packaged: it is bound 2 times at module level (lines 4, 6), "
                      "so its value depends on the order the file runs in"),
    ]


def test_lambda_bound_to_a_name_is_refused(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, "double = lambda x: 2 * x\n", "double")
    assert codes_at(closure) == [(1, "DC340")]


def test_module_outside_the_folder_without_a_distribution_is_refused(tmp_path: Path) -> None:
    dag = """
        import snowflake.connector

        def work():
            return snowflake.connector.connect()
    """
    closure = closure_of(tmp_path / "a", dag, "work")
    assert [(d.span.line, d.code, d.message) for d in closure.diagnostics] == [
        (2, "DC342", "snowflake.connector is neither a module of the DAG folder nor provided by a known distribution"),
    ]
    from dag_converter.codepackage._environment import shipped

    env = shipped().with_modules({"snowflake.connector": "snowflake-connector-python"})
    mapped = closure_of(tmp_path / "b", dag, "work", environment=env)
    assert not mapped.diagnostics
    assert [r.distribution for r in derive_requirements(mapped.imports, environment=env).requirements] == [
        "snowflake-connector-python"]


def test_optional_imports_are_not_required(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        from helpers import work
    """, "work", files={"helpers.py": """
        try:
            import orjson as fast
        except ImportError:
            fast = None

        def work():
            return fast
    """})
    assert not closure.diagnostics
    assert [(i.module, i.optional) for i in closure.imports] == [("orjson", True)]
    assert derive_requirements(closure.imports).optional == ("orjson",)


def test_imports_inside_a_shipped_function_are_requirements_too(tmp_path: Path) -> None:
    """`def f(): import networkx` imports when the task runs: it is needed like a module-level import,
    a folder module imported there is shipped, and an optional one stays optional."""
    closure = closure_of(tmp_path, """
        def work():
            import networkx as nx
            from helpers import clean
            try:
                import orjson
            except ImportError:
                orjson = None
            return nx, clean, orjson
    """, "work", files={"helpers.py": "def clean():\n    return 1\n"})
    assert not closure.diagnostics
    assert [(i.module, i.optional) for i in closure.imports] == [("networkx", False), ("orjson", True)]
    assert [r.distribution for r in derive_requirements(closure.imports).requirements] == ["networkx"]
    assert [m.path for m in closure.modules] == ["helpers.py"]


def test_relative_imports_of_folder_packages_are_followed(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, "", "pkg.jobs.run", files={
        "pkg/__init__.py": "",
        "pkg/jobs.py": "from . import util\nfrom .sub.deep import VALUE\n\ndef run():\n    return util.twice(VALUE)\n",
        "pkg/util.py": "def twice(x):\n    return 2 * x\n",
        "pkg/sub/deep.py": "VALUE = 21\n",
        "pkg/unused.py": "X = 1\n",
    })
    assert not closure.diagnostics
    assert [m.path for m in closure.modules] == ["pkg/__init__.py", "pkg/jobs.py", "pkg/sub/deep.py", "pkg/util.py"]
    assert [(r.module, r.attribute) for r in closure.resolved] == [("pkg.jobs", "run")]


def test_a_missing_attribute_of_a_folder_module_is_refused(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, "", "helpers.nope", files={"helpers.py": "def work():\n    return 1\n"})
    assert [(d.code, d.message) for d in closure.diagnostics] == [
        ("DC344", "helpers.nope cannot be packaged: helpers.py defines no nope at module level")]


def test_links_and_oversized_modules_are_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    root = folder(tmp_path, {"dag.py": "from linked import SECRET\nfrom big import B\n\ndef work():\n    return SECRET, B\n",
                             "big.py": "B = '" + "x" * 2000 + "'\n"})
    os.symlink(outside, root / "linked.py")
    closure = collect((root / "dag.py").read_text(), "dag.py", root, [Reference("t", "work")], dag_file="dag.py",
                      max_file_size=1000)
    assert sorted((d.code, d.message) for d in closure.diagnostics) == [
        ("DC346", "big.py cannot go into the code package: it is 2007 bytes, over the 1000-byte limit"),
        ("DC346", "linked.py cannot go into the code package: it is a symbolic link, which the converter does not follow"),
    ]


def test_the_dag_file_itself_is_never_shipped(tmp_path: Path) -> None:
    root = folder(tmp_path, {
        "etl.py": "from helpers import work\n",
        "helpers.py": "import etl\n\ndef work():\n    return etl\n",
    })
    package = build_package("etl", [], "from helpers import work\n", "etl.py", root, dag_file="etl.py",
                            extra_references=[Reference("t", "helpers.work")])
    assert package.zip_bytes is None
    assert [d.code for d in package.diagnostics] == ["DC345"]


def test_taskflow_decorators_are_left_out_only_for_the_task_function(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        from airflow.sdk import task

        @task.branch
        def tf_choose():
            return helper()

        @task
        def helper():
            return "a"
    """, "tf_choose")
    assert [(d.span.line, d.code, d.message) for d in closure.diagnostics] == [
        (9, "DC345", "helper is a TaskFlow task of the DAG file; packaged code cannot use it")]
    ok = closure_of(tmp_path / "ok", "from airflow.sdk import task\n\n@task.branch\ndef tf_choose():\n    return 'a'\n",
                    "tf_choose")
    assert not ok.diagnostics
    assert ok.resolved[0].stripped_decorators == ("@task.branch",)
    assert [d.code for d in ok.definitions] == ["def tf_choose():\n    return 'a'\n"]


def test_hostile_folder_modules_become_diagnostics(tmp_path: Path) -> None:
    root = folder(tmp_path, {"dag.py": "import deep, broken, latin\n\ndef work():\n    return deep, broken, latin\n",
                             "deep.py": "X = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
                             "broken.py": "def (:\n"})
    (root / "latin.py").write_bytes(b"# -*- coding: utf-8 -*-\nNAME = '\xe9'\n")
    package = build_package("dag", [], (root / "dag.py").read_text(), "dag.py", root, dag_file="dag.py",
                            extra_references=[Reference("t", "work")])
    assert package.zip_bytes is None
    assert sorted((d.code, d.message.split(":")[0]) for d in package.diagnostics) == [
        ("DC346", "broken.py cannot go into the code package"),
        ("DC346", "deep.py cannot go into the code package"),
        ("DC346", "latin.py cannot go into the code package"),
    ]


def test_a_dag_file_that_does_not_parse_is_reported() -> None:
    closure = collect("def (:\n", "dag.py", Path("."), [Reference("t", "work")])
    assert [d.code for d in closure.diagnostics] == ["DC101"]


def test_a_taskflow_function_rebound_to_its_output_is_still_shipped(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        from airflow.sdk import task

        @task
        def tf_create(name: str) -> str:
            return name

        tf_create = tf_create("orders")
    """, "tf_create")
    assert not closure.diagnostics
    assert [(d.kind, d.name, d.line) for d in closure.definitions] == [("function", "tf_create", 5)]


def test_an_import_with_a_fallback_keeps_its_try_block(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        try:
            from airflow.sdk import TriggerRule
        except ImportError:
            # Airflow < 3.1
            from airflow.utils.trigger_rule import TriggerRule

        try:
            import orjson as json_impl
        except ImportError:
            json_impl = None

        def work():
            return TriggerRule.ALL_DONE, json_impl
    """, "work")
    assert not closure.diagnostics
    assert [d.code for d in closure.definitions if d.kind == "import"] == [
        "try:\n    from airflow.sdk import TriggerRule\nexcept ImportError:\n    # Airflow < 3.1\n"
        "    from airflow.utils.trigger_rule import TriggerRule",
        "try:\n    import orjson as json_impl\nexcept ImportError:\n    json_impl = None",
    ]
    assert [(i.module, i.optional) for i in closure.imports] == [
        ("airflow.sdk", True), ("airflow.utils.trigger_rule", False), ("orjson", True)]


def test_taskflow_decorators_re_exported_by_other_modules_are_recognised(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, """
        from airflow.providers.common.compat.sdk import task as compat_task
        from airflow.utils.trigger_rule import TriggerRule

        @compat_task(trigger_rule=TriggerRule.ALL_DONE)
        def tf_cleanup():
            return "done"
    """, "tf_cleanup")
    assert not closure.diagnostics
    assert closure.resolved[0].stripped_decorators == ("@compat_task(trigger_rule=TriggerRule.ALL_DONE)",)
    assert [d.kind for d in closure.definitions] == ["function"]  # TriggerRule was only used by the decorator


def test_a_folder_module_that_builds_a_dag_is_refused(tmp_path: Path) -> None:
    closure = closure_of(tmp_path, "from other_dag import shared\n\ndef work():\n    return shared()\n", "work", files={
        "other_dag.py": "from airflow import DAG\n\ndef shared():\n    return 1\n\nwith DAG('other'):\n    pass\n",
    })
    assert [(d.span.line, d.code, d.message) for d in closure.diagnostics] == [
        (1, "DC345", "other_dag.py is a module that builds a DAG when imported (DAG()); packaged code cannot use it")]


def test_diagnostics_in_folder_modules_are_shown_beside_the_dag_file(tmp_path: Path) -> None:
    root = folder(tmp_path, {"team/etl.py": "from helpers import work\n", "helpers.py": "import nowhere_known\n\ndef work():\n    return 1\n"})
    closure = collect("from helpers import work\n", "dags/team/etl.py", root, [Reference("t", "work")],
                      dag_file="team/etl.py")
    assert [(d.span.path, d.span.line, d.code) for d in closure.diagnostics] == [("dags/helpers.py", 1, "DC342")]


class _MemoryFolder:
    """A DAG folder reader over a dict (the shape of storage.s3.S3Folder: kind, read, version)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.read_names: list[str] = []

    def kind(self, relative: str) -> str | None:
        if relative in self.files:
            return "file"
        return "dir" if any(name.startswith(relative + "/") for name in self.files) else None

    def read(self, relative: str, limit: int) -> bytes | str:
        self.read_names.append(relative)
        data = self.files.get(relative)
        if data is None:
            return f"{relative!r} does not exist in the DAG folder"
        return data if len(data) <= limit else f"{relative!r} is larger than {limit} bytes"

    def version(self, relative: str) -> str:
        return str(hash(self.files.get(relative)))


def test_a_package_built_from_a_folder_reader_equals_the_one_built_from_disk(tmp_path: Path) -> None:
    """An s3:// DAG folder is read through its S3Folder: the same files make the same package,
    byte for byte, and nothing the package does not need is read (not even a file too large)."""
    from dag_converter.analyzer import analyze_module

    files = {
        "etl/dag.py": """
            from datetime import datetime

            from airflow import DAG
            from airflow.providers.standard.operators.python import PythonOperator
            from common.text import shout


            def hello():
                return shout("hello")


            with DAG("reader_dag", start_date=datetime(2025, 1, 1), schedule=None, template_searchpath=["sql"]):
                PythonOperator(task_id="hello", python_callable=hello)
            """,
        "common/__init__.py": "",
        "common/text.py": "def shout(word):\n    return word.upper()\n",
        "unused/big.py": "x = 1\n" * 100,
    }
    root = folder(tmp_path, files)
    source = (root / "etl" / "dag.py").read_text()
    reader = _MemoryFolder({name: (root / name).read_bytes() for name in files})
    packages = []
    for where in (root, reader):
        analysis = analyze_module(source, "etl/dag.py", root=root, inline_templates=False)
        [workflow] = analysis.workflows
        packages.append(build_package(workflow.dag_id, workflow.tasks, source, "etl/dag.py", where,  # type: ignore[arg-type]
                                      dag_file="etl/dag.py", dag_module="etl.dag", max_file_size=200))
    on_disk, through_reader = packages
    assert on_disk.zip_bytes is not None and not on_disk.refused, on_disk.diagnostics
    assert through_reader.zip_bytes == on_disk.zip_bytes
    assert [f.path for f in through_reader.files] == [f.path for f in on_disk.files]
    assert "common/text.py" in [f.path for f in through_reader.files]
    assert "unused/big.py" not in reader.read_names
