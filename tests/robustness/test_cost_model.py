"""Bounded work and memory (issue 16): small hostile files that would take gigabytes or hours are
refused at the line that exceeds a limit, with one DC108, quickly and in bounded memory.

Each case runs in its own process under RLIMIT_AS (a regression fails with MemoryError or the
timeout instead of taking the machine down); no test asserts a time. The marker `# [DC108]` (or
another code) ends the line each case must be refused at.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dag_converter.analyzer import Limits, analyze_module

from ._support import ROOT, run_cli

HEAD = '''from airflow import DAG
from airflow.models.baseoperator import cross_downstream
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator
from airflow.providers.standard.operators.empty import EmptyOperator
'''

#: name -> source. Each line marked `# [CODE]` is where the file must be refused, with that code.
CASES: dict[str, str] = {
    # Values too large to build at all: refused before Python builds them.
    "repeat_string.py": HEAD + 'x = 10**9 * "ab"  # [DC108]\n',
    "repeat_list.py": HEAD + "x = 3 * 10**8 * [0]  # [DC108]\n",
    "doubling_concat.py": HEAD + "x = [0]\nfor i in range(40):\n    x = x + x  # [DC108]\n",
    "doubling_extend.py": HEAD + "x = ['ab']\nfor i in range(40):\n    x += x  # [DC108]\n",
    "join_generator.py": HEAD + 'x = ",".join("abcdefghij" for i in range(500_000))  # [DC108]\n',
    "replace_growth.py": HEAD + "x = 'a' * 1000\nx = x.replace('a', x)  # [DC108]\n",
    "set_union.py": HEAD + "a = set(range(900_000))\nb = set(range(900_000, 1_800_000))\nc = a | b  # [DC108]\n",
    "huge_range.py": HEAD + "for i in range(10 ** 12):  # [DC108]\n    pass\n",
    # Shared references: cheap to build, a billion elements to compare or emit.
    "shared_compare.py": HEAD + (
        "grid = [[0] * 1000] * 1000\ncube = [grid] * 1000\n"
        "same = cube == [[[0] * 1000] * 1000] * 1000  # [DC108]\n"),
    "shared_in.py": HEAD + "grid = [[0] * 1000] * 1000\ncube = [grid] * 1000\nfound = [1] in cube  # [DC108]\n",
    "shared_emit.py": HEAD + (
        "grid = [[0] * 1000] * 1000\ncube = [grid] * 1000\n"
        'with DAG("emit", schedule=None):\n'
        '    S3ListOperator(task_id="t", bucket="b",\n'
        "                   prefix=cube)  # [DC108]\n"),
    "shared_str.py": HEAD + "grid = [[0] * 1000] * 1000\ncube = [grid] * 1000\ntext = str(cube)  # [DC108]\n",
    # Work: cheap operations repeated, or costly ones in a loop.
    "sort_loop.py": HEAD + "data = list(range(100_000))\nfor i in range(100_000):\n    data = sorted(data)  # [DC108]\n",
    "compare_loop.py": HEAD + "a = list(range(100_000))\nb = list(a)\nfor i in range(100_000):\n    same = a == b  # [DC108]\n",
    "dict_fill.py": HEAD + "d = {}\nfor i in range(10 ** 8):  # [DC108]\n    d[i] = i\n",
    "fan_out_recursion.py": HEAD + "def f(n):\n    return f(n + 1) + f(n + 1)  # [DC108]\nx = f(0)\n",
    # Memory: many large values kept alive.
    "kept_strings.py": HEAD + 'keep = []\nfor i in range(5000):\n    keep.append(str(i) + "x" * 999_000)  # [DC108]\n',
    "kept_lists.py": HEAD + "keep = []\nfor i in range(5000):\n    keep.append([i] * 900_000)  # [DC108]\n",
    # What a file produces: tasks, edges, DAGs.
    "cross_downstream.py": HEAD + (
        'with DAG("cross", schedule=None):\n'
        '    ups = [EmptyOperator(task_id=f"a{i}") for i in range(2000)]\n'
        '    downs = [EmptyOperator(task_id=f"b{i}") for i in range(2000)]\n'
        "    cross_downstream(ups, downs)  # [DC108]\n"),
    "shift_lists.py": HEAD + (
        'with DAG("shift", schedule=None):\n'
        '    start = [EmptyOperator(task_id=f"a{i}") for i in range(1000)]\n'
        "    for i in range(1000):\n"
        '        start >> EmptyOperator(task_id=f"b{i}")  # [DC108]\n'),
    "many_dags.py": HEAD + 'for i in range(100_000):\n    DAG(f"d{i}", schedule=None)  # [DC108]\n',
    "many_tasks.py": HEAD + (
        'with DAG("tasks", schedule=None):\n'
        "    for i in range(100_000):\n"
        '        EmptyOperator(task_id=f"t{i}")  # [DC108]\n'),
    # Widths: a format that would build a gigabyte stays unknown; used in a DAG, it is refused there.
    "fstring_width.py": HEAD + (
        'with DAG("width", schedule=None):\n'
        '    S3ListOperator(task_id="t", bucket="b",\n'
        '                   prefix=f"{1:>1000000000}")  # [DC201]\n'),
    "format_width.py": HEAD + (
        'with DAG("format", schedule=None):\n'
        '    S3ListOperator(task_id="t", bucket="b",\n'
        "                   prefix='{:{}}'.format(1, 10 ** 9))  # [DC201]\n"),
    "ljust_width.py": HEAD + (
        'with DAG("ljust", schedule=None):\n'
        '    S3ListOperator(task_id="t", bucket="b",\n'
        "                   prefix='a'.ljust(10 ** 9))  # [DC201]\n"),
    "bytes_repeat.py": HEAD + (
        'with DAG("bytes", schedule=None):\n'
        '    S3ListOperator(task_id="t", bucket="b",\n'
        "                   prefix=b'ab' * 10 ** 9)  # [DC201]\n"),
}

_MARKER = re.compile(r"# \[(DC\d{3})\]$")
MEGABYTES = 1024  #: the address space each case runs in (Python, libcst and the registry take about 200)


def expected(source: str) -> tuple[str, int]:
    """The code and the line a case's marker names."""
    for number, line in enumerate(source.splitlines(), start=1):
        found = _MARKER.search(line)
        if found:
            return found.group(1), number
    raise AssertionError("no marker")


def test_the_unresolved_marker_is_the_unresolved_value_code() -> None:
    from dag_converter import codes

    assert codes.UNRESOLVED_VALUE.code == "DC201"
    assert codes.INPUT_TOO_COMPLEX.code == "DC108"


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_case_is_refused_at_its_line_in_bounded_memory(name: str, tmp_path: Path) -> None:
    source = CASES[name]
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    done = subprocess.run([sys.executable, "-m", "tests.robustness._cost_worker", str(path), str(MEGABYTES)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    code, line = expected(source)
    errors = [d for d in answer["diagnostics"] if d["code"] in (code, "DC108", "DC901")]
    assert [(d["code"], d["line"]) for d in errors] == [(code, line)], answer
    assert answer["status"] in ("refused", "unreadable"), answer


def test_limits_are_configurable() -> None:
    source = HEAD + "".join(f'DAG("d{i}", schedule=None)\n' for i in range(3))

    within = analyze_module(source, "d.py", today=dt.date(2030, 1, 1), limits=Limits(dags=3))
    beyond = analyze_module(source, "d.py", today=dt.date(2030, 1, 1), limits=Limits(dags=2))

    assert not [d for d in within.diagnostics if d.code == "DC108"]
    assert [(d.code, d.span.line) for d in beyond.diagnostics] == [("DC108", len(HEAD.splitlines()) + 3)]
    assert "more than 2 DAGs" in beyond.diagnostics[0].message


def test_defaults_sit_far_above_a_real_dag() -> None:
    """A DAG file with 500 tasks in groups and a fan-in converts without coming near any limit."""
    source = HEAD + "from airflow.utils.task_group import TaskGroup\n" + (
        'with DAG("big", schedule=None):\n'
        '    end = EmptyOperator(task_id="end")\n'
        "    for g in range(50):\n"
        '        with TaskGroup(f"g{g}"):\n'
        '            tasks = [EmptyOperator(task_id=f"t{i}") for i in range(10)]\n'
        "            tasks >> end\n")

    analysis = analyze_module(source, "big.py", today=dt.date(2030, 1, 1))

    assert not [d for d in analysis.diagnostics if d.code == "DC108"]
    assert len(analysis.workflows[0].tasks) == 501


@pytest.mark.parametrize("jobs", [["--jobs", "1"], []], ids=["jobs-1", "default-jobs"])
def test_the_cli_refuses_each_case_once(jobs: list[str], tmp_path: Path) -> None:
    """Through `dag-converter convert`, in-process (--jobs 1) and in workers: one line per case."""
    dags = tmp_path / "dags"
    dags.mkdir()
    for name, source in CASES.items():
        (dags / name).write_text(source, encoding="utf-8")

    result = run_cli("convert", dags, "--output", tmp_path / "out", *jobs, timeout=600)

    assert "Traceback" not in result.stderr and "DC901" not in result.stderr
    lines = result.stderr.splitlines()
    for name, source in CASES.items():
        code, line = expected(source)
        found = [text for text in lines if text.startswith(f"{dags / name}:") and " [error] " in text]
        assert len(found) == 1 and found[0].startswith(f"{dags / name}:{line}:") and f" {code} " in found[0], \
            (name, found)
