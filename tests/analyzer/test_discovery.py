"""DAG discovery follows Airflow's DagBag: which DAGs exist, their tasks and their edges."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

from dag_converter.analyzer import analyze_module
from dag_converter.model import ModuleAnalysis

HEAD = """
from datetime import datetime
from airflow.sdk import DAG, TaskGroup, chain, dag, task, task_group
from airflow.providers.standard.operators.empty import EmptyOperator as E
"""


def analyze(body: str, **kwargs: object) -> ModuleAnalysis:
    return analyze_module(HEAD + textwrap.dedent(body), "t.py", today=dt.date(2030, 1, 1), **kwargs)  # type: ignore[arg-type]


def shape(analysis: ModuleAnalysis) -> dict[str, dict[str, tuple[str, ...]]]:
    return {w.dag_id: {t.task_id: t.upstream for t in w.tasks} for w in analysis.workflows}


def test_context_manager_dags_register_themselves_even_unbound() -> None:
    result = analyze("""
        for name in ["a", "b"]:
            with DAG(f"d_{name}"):
                E(task_id="t")
    """)
    assert list(shape(result)) == ["d_a", "d_b"]


def test_plain_dag_objects_count_only_when_a_global_holds_them() -> None:
    result = analyze("""
        def make(name):
            return DAG(name)
        kept = make("kept")
        make("dropped")
        for n in ["g1", "g2"]:
            globals()[n] = DAG(n)
    """)
    assert list(shape(result)) == ["kept", "g1", "g2"]


def test_dag_decorated_function_builds_its_dag_when_called() -> None:
    result = analyze("""
        @dag(schedule=None)
        def built():
            E(task_id="x") >> E(task_id="y")
        built()
        @dag()
        def never_called():
            E(task_id="z")
    """)
    assert shape(result) == {"built": {"x": (), "y": ("x",)}}


def test_nested_groups_honour_prefix_group_id_and_expand_in_edges() -> None:
    result = analyze("""
        with DAG("g"):
            s = E(task_id="s")
            with TaskGroup("o") as o:
                with TaskGroup("i", prefix_group_id=False):
                    a = E(task_id="a")
                b = E(task_id="b")
                a >> b
            s >> o
    """)
    assert shape(result) == {"g": {"s": (), "a": ("s",), "o.b": ("a",)}}


def test_task_group_function_suffixes_repeated_calls() -> None:
    result = analyze("""
        @task_group
        def grp():
            E(task_id="t")
        with DAG("g"):
            grp() >> grp()
    """)
    assert shape(result) == {"g": {"grp.t": (), "grp__1.t": ("grp.t",)}}


def test_chain_pairs_equal_lists_and_fans_out_single_tasks() -> None:
    result = analyze("""
        with DAG("c"):
            a, b, c, d, e = [E(task_id=n) for n in "abcde"]
            chain(a, [b, c], [d, e])
    """)
    assert shape(result)["c"] == {"a": (), "b": ("a",), "c": ("a",), "d": ("b",), "e": ("c",)}


def test_call_outside_the_dag_folder_is_refused_at_its_line_and_certain_edges_kept() -> None:
    result = analyze("""
        from company import make_tasks
        with DAG("x"):
            a = E(task_id="a")
            b = E(task_id="b")
            chain(a, b, make_tasks())
    """)
    workflow = result.workflows[0]
    assert shape(result)["x"] == {"a": (), "b": ("a",)}
    assert any(d.code == "DC204" and d.span.line == HEAD.count("\n") + 6 for d in workflow.diagnostics)


def test_constants_are_read_from_modules_of_the_dag_folder(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "conf.py").write_text("from .names import PREFIX\nIDS = [PREFIX + str(n) for n in range(2)]\n")
    (tmp_path / "pkg" / "names.py").write_text("PREFIX = 'job_'\n")
    result = analyze("""
        from pkg.conf import IDS
        import pkg.names
        with DAG(pkg.names.PREFIX + "dag"):
            for i in IDS:
                E(task_id=i)
    """, root=tmp_path)
    assert shape(result) == {"job_dag": {"job_0": (), "job_1": ()}}


def test_modules_outside_the_folder_are_not_read(tmp_path: Path) -> None:
    result = analyze("""
        from missing import NAME
        with DAG("m"):
            E(task_id=NAME)
    """, root=tmp_path)
    assert [d.code for d in result.workflows[0].diagnostics] == ["DC201"]
