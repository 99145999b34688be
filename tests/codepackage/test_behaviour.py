"""Behaviour: the source DAG and the converted DAG (YAML + code package) run with Airflow's
`dag.test()` give the same task states and the same XCom values.

`dag.test()` runs tasks through Airflow 3.0.6's in-process execution API, which needs a metadata
database (`airflow db migrate` in a temporary AIRFLOW_HOME) and the FastAPI/Cadwyn of Airflow 3.0.6's
day (fastapi 0.116, cadwyn 5.4). With newer ones every task fails before it starts (the API rejects
the TI-run body). The `verify` extra and constraints.txt pin those, so CI (.ci/run) runs this test and
sets DAG_CONVERTER_REQUIRE_AIRFLOW_RUNTIME=1, which turns a missing runtime into a failure. Elsewhere
(a venv with other versions) it is skipped, unless the versions are importable from a folder named
by DAG_CONVERTER_AIRFLOW_OVERLAY, put first on the subprocesses' PYTHONPATH (`pip install --target DIR
"fastapi==0.116.*" "cadwyn==5.4.*"`).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from codepackage._support import CASES
from dag_converter.cli import EXIT_OK, main

OVERLAY = os.environ.get("DAG_CONVERTER_AIRFLOW_OVERLAY", "")

_VERSIONS = """
import json
from importlib.metadata import version
print(json.dumps([version("fastapi"), version("cadwyn")]))
"""

_RUN = """
import datetime, json, sys
side, folder, target = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, folder)  # as Airflow puts its DAG folder on sys.path
if side == "python":
    from airflow.models.dagbag import DagBag
    dag = next(iter(DagBag(dag_folder=target, include_examples=False).dags.values()))
else:
    from dagfactory import load_yaml_dags
    from airflow.sdk.definitions.dag import DAG
    ns = {}
    load_yaml_dags(globals_dict=ns, dags_folder=folder, suffix=[target])
    dag = next(v for v in ns.values() if isinstance(v, DAG))
    # DagBag sets a DAG's fileloc to the module that made it: for YAML, the loader file in the DAG
    # folder. Its folder is where templated files (`bash_command: scripts/load.sh`) are looked up.
    dag.fileloc = folder + "/dag_factory_loader.py"
run = dag.test(logical_date=datetime.datetime(2025, 1, 2, tzinfo=datetime.timezone.utc))
print(json.dumps({ti.task_id: [str(ti.state), ti.xcom_pull(task_ids=ti.task_id)]
                  for ti in run.get_task_instances()}, sort_keys=True, default=repr))
"""


def _env(home: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (OVERLAY, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False", "PYTHONPATH": path}


def _runtime_problem() -> str | None:
    """Why dag.test() cannot run here, or None."""
    if importlib.util.find_spec("airflow") is None or importlib.util.find_spec("dagfactory") is None:
        return "Airflow and dag-factory are not installed (the verify extra)"
    done = subprocess.run([sys.executable, "-c", _VERSIONS], capture_output=True, text=True, timeout=120,
                          env=_env(Path("/nonexistent")))
    if done.returncode != 0:
        return f"fastapi/cadwyn are not importable: {done.stderr.strip()[-300:]}"
    fastapi, cadwyn = json.loads(done.stdout.strip().splitlines()[-1])
    if fastapi.startswith("0.116.") and cadwyn.startswith("5."):
        return None
    return (f"dag.test() needs Airflow 3.0.6's fastapi 0.116 / cadwyn 5.4, found {fastapi} / {cadwyn} "
            "(install with -c constraints.txt, or set DAG_CONVERTER_AIRFLOW_OVERLAY)")


_PROBLEM = _runtime_problem()
if _PROBLEM is not None and os.environ.get("DAG_CONVERTER_REQUIRE_AIRFLOW_RUNTIME") == "1":
    raise RuntimeError(f"DAG_CONVERTER_REQUIRE_AIRFLOW_RUNTIME=1 but {_PROBLEM}")
pytestmark = pytest.mark.skipif(_PROBLEM is not None, reason=_PROBLEM or "")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated metadata database, copied for each run (a run id is per DAG and date)."""
    home = tmp_path_factory.mktemp("airflow-home")
    done = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True,
                          timeout=600, env=_env(home))
    assert done.returncode == 0, done.stderr[-2000:]
    return home / "airflow.db"


def _run(side: str, folder: Path, target: str, database: Path, home: Path) -> dict[str, list[object]]:
    home.mkdir(parents=True)
    shutil.copyfile(database, home / "airflow.db")
    done = subprocess.run([sys.executable, "-c", _RUN, side, str(folder), target], capture_output=True, text=True,
                          timeout=600, env=_env(home), cwd=home)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("case", "dag_file", "dag_id", "failing"), [
    ("python_helper", "etl_python.py", "etl_python", ()),
    ("taskflow", "taskflow_etl.py", "taskflow_etl", ()),
    ("custom_operator", "greet_dag.py", "greet", ()),
    # `bash_command="scripts/run.bash "` (not a template: the trailing space) runs the path from the
    # task's temporary working directory, where it is not, in the source DAG as in the converted one.
    ("bash_script", "bash_etl.py", "bash_etl", ("run", "echo")),
])
def test_source_and_converted_dag_run_alike(case: str, dag_file: str, dag_id: str, failing: tuple[str, ...],
                                            tmp_path: Path, database: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(CASES / case), "-o", str(out), "--code-package"])
    assert result.exit_code == EXIT_OK, result.output
    # The service's DAG folder: the package extracted, the YAML beside it; not the source folder.
    dags = tmp_path / "dags"
    dags.mkdir()
    zipfile.ZipFile(io.BytesIO((out / f"{dag_id}.code.zip").read_bytes())).extractall(dags)
    shutil.copyfile(out / f"{dag_id}.yaml", dags / f"{dag_id}.yaml")
    source = tmp_path / "source"
    shutil.copytree(CASES / case, source)
    python = _run("python", source, str(source / dag_file), database, tmp_path / "home-python")
    yaml = _run("yaml", dags, f"{dag_id}.yaml", database, tmp_path / "home-yaml")
    assert python == yaml
    assert python and all(state == "success" for task, (state, _) in python.items() if task not in failing), python
    assert all(python[task][0] != "success" for task in failing)
