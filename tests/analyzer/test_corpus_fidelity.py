"""Analysis fidelity on a real corpus: the Amazon provider's system-test example DAGs.

Every file goes through the converter in one folder run without an internal error. Every file
Airflow can load here (helpers of `tests_common` are shimmed in corpus_shims/) must give the same
DAG ids, task ids and upstream sets as Airflow's DagBag. Tasks made by code outside the DAG folder
(the system-test context task, the watcher) are invisible to a static analyzer by design: they
are compared through the refusal that must name their line, like every other non-Amazon task.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from provider_corpus import corpus_dir

from dag_converter import codes
from dag_converter.model import FileResult, Severity
from dag_converter.batch import convert_paths
from dag_converter.pipeline import Options

VERSION = "9.30.0"
HERE = Path(__file__).resolve().parent
AMAZON_OR_EMPTY = ("airflow.providers.amazon.", "airflow.providers.standard.operators.empty.")
#: Differences understood and accepted, by file, with the reason. Counted, not asserted.
KNOWN: dict[str, str] = {
    # chain(*[t for t in [test_context, ...] if t is not None]): the filter cannot be decided for
    # the context task (made outside the DAG folder), so the analyzer keeps none of the chain's
    # edges rather than guess the list; the DAG is refused at the context task's line anyway.
    "example_emr.py": "comprehension filtered on a value made outside the DAG folder",
    # Importing system.amazon.aws.example_sagemaker (another example file, by a package path
    # outside the analysed folder) registers that file's DAG in this one too, in Airflow only.
    "example_sagemaker_pipeline.py": "imports another DAG file through a path outside the folder",
}


@pytest.fixture(scope="module")
def corpus() -> Path:
    folder = corpus_dir(VERSION)
    if folder is None:
        pytest.skip(f"the Amazon provider {VERSION} example DAGs cannot be fetched")
    return folder


@pytest.fixture(scope="module")
def converted(corpus: Path) -> dict[str, FileResult]:
    results, problems = convert_paths([str(corpus)], Options(today=dt.date(2026, 1, 1)))
    assert not problems
    return {Path(r.path).name: r for r in results if Path(r.path).parent == corpus}


@pytest.fixture(scope="module")
def airflow_view(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    pytest.importorskip("airflow")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow_home")),
           "AWS_DEFAULT_REGION": "us-east-1", "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR"}
    out = subprocess.run([sys.executable, str(HERE / "_corpus_load.py"), str(corpus)], capture_output=True,
                         text=True, env=env, timeout=600, check=True)
    return json.loads(out.stdout)


def test_every_file_converts_without_internal_error(converted: dict[str, FileResult]) -> None:
    crashed = {name: [d.message for d in r.all_diagnostics() if d.code == codes.INTERNAL_ERROR.code]
               for name, r in converted.items()}
    assert {name: m for name, m in crashed.items() if m} == {}
    assert sum(1 for name in converted if name.startswith("example_")) > 80


#: Every error kind left on the corpus is right: the value is not known statically, the construct has
#: no equivalent, or the service rejects it (docs/corpus-review.md says why, kind by kind). DC312 also
#: holds provider enum members today (`ClusterStates.ACTIVE`), which the enum work will write instead.
RIGHT_ERRORS: frozenset[str] = frozenset({
    "DC201", "DC202", "DC204", "DC301", "DC310", "DC311", "DC312", "DC317", "DC401", "DC501",
})
#: Names of the analyzer's own classes: a message that shows one explains nothing to a user.
_INTERNAL_NAMES = re.compile(r"\b(Symbol|Opaque|UserFunction|BoundMethod|ModuleValue|TaskBuilder|DagBuilder)\b")


@pytest.fixture(scope="module")
def converted_with_helpers(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileResult]:
    """The corpus as Airflow's sys.path sees it in the tests: a root holding `system/` (so
    `system.amazon.aws.utils` is a module of the DAG folder) and the `tests_common` shims."""
    root = tmp_path_factory.mktemp("corpus_root")
    shutil.copytree(corpus.parents[2] / "system", root / "system")
    shutil.copytree(HERE / "corpus_shims" / "tests_common", root / "tests_common")
    results, problems = convert_paths([str(root)], Options(today=dt.date(2026, 1, 1)))
    assert not problems
    return {str(Path(r.path).relative_to(root)): r for r in results}


@pytest.mark.parametrize("run", ["converted", "converted_with_helpers"])
def test_no_false_error_kinds(run: str, request: pytest.FixtureRequest) -> None:
    """No internal error, no error kind outside RIGHT_ERRORS (DC320 here only ever repeated the
    DC204 of the call whose result it chained), no analyzer class name in a message."""
    converted: dict[str, FileResult] = request.getfixturevalue(run)
    wrong = sorted(f"{name}:{d.span.line}: {d.code} {d.message}" for name, result in converted.items()
                   for d in result.all_diagnostics()
                   if (d.severity is Severity.ERROR and d.code not in RIGHT_ERRORS) or _INTERNAL_NAMES.search(d.message))
    assert wrong == []
    assert sum(len(result.dags) for result in converted.values()) > 80


def _compare(converted: dict[str, FileResult], airflow_view: dict[str, object]) -> Iterator[tuple[str, str]]:
    """(kind, message) for every difference between the analyzer and Airflow."""
    for name, dags in sorted(airflow_view["files"].items()):  # type: ignore[union-attr]
        result = converted[name]
        ours = {d.dag_id: d for d in result.dags}
        if set(ours) != set(dags):
            yield "dag", f"{name}: DAG ids {sorted(ours)} vs Airflow {sorted(dags)}"
            continue
        for dag_id, tasks in dags.items():
            dag = ours[dag_id]
            external = {tid for tid, t in tasks.items() if t["external"]}
            expected = {tid: set(t["upstream"]) - external for tid, t in tasks.items() if tid not in external}
            found = {t.task_id: set(t.upstream) for t in dag.workflow.tasks}
            if set(found) != set(expected):
                yield "task", (f"{name}: {dag_id}: only ours {sorted(set(found) - set(expected))}, "
                               f"only Airflow's {sorted(set(expected) - set(found))}")
            for tid in sorted(set(found) & set(expected)):
                if found[tid] != expected[tid]:
                    yield "upstream", f"{name}: {dag_id}.{tid}: upstream {sorted(found[tid])} vs Airflow {sorted(expected[tid])}"
            error_lines = {d.span.line for d in dag.diagnostics
                           if d.severity is Severity.ERROR and Path(d.span.path).name == name}
            our_lines = {t.task_id: t.span.line for t in dag.workflow.tasks}
            for tid, t in tasks.items():
                # A task the analyzer found is named at the line it starts on; one made outside
                # the DAG folder at the line Airflow ran the call from.
                line = our_lines.get(tid, t["line"])
                if not t["operator"].startswith(AMAZON_OR_EMPTY) and line not in error_lines:
                    yield "refusal", f"{name}: {dag_id}: task {tid} ({t['operator']}) at line {t['line']} not named by a refusal"


def test_same_dags_tasks_and_upstream_as_airflow(converted: dict[str, FileResult],
                                                 airflow_view: dict[str, object]) -> None:
    found = list(_compare(converted, airflow_view))
    known = [(kind, m) for kind, m in found if m.split(":", 1)[0] in KNOWN]
    differences = [(kind, m) for kind, m in found if m.split(":", 1)[0] not in KNOWN]
    files = airflow_view["files"]
    counts = {
        "files": len(converted),
        "loadable": len(files),  # type: ignore[arg-type]
        "dags": sum(len(d) for d in files.values()),  # type: ignore[union-attr]
        "dag_mismatches": sum(1 for kind, _ in differences if kind == "dag"),
        "task_mismatches": sum(1 for kind, _ in differences if kind == "task"),
        "upstream_mismatches": sum(1 for kind, _ in differences if kind == "upstream"),
        "unnamed_refusals": sum(1 for kind, _ in differences if kind == "refusal"),
        "known_differences": len(known),
    }
    print("corpus fidelity:", json.dumps(counts))
    assert [message for _, message in differences] == []
