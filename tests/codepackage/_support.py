"""Building the code-package fixtures the way the target will: analyzer tasks in, package out."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

from dag_converter.analyzer import analyze_module
from dag_converter.codepackage import CodePackage, build_package

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = ROOT / "fixtures" / "code_packages"


#: an MWAA plugins.zip's modules, for the --plugins tests: a callable and a custom operator
PLUGIN_HELPERS = "def transform():\n    return 42\n"
PLUGIN_OPERATORS = textwrap.dedent('''\
    from airflow.models.baseoperator import BaseOperator


    class GreetOperator(BaseOperator):
        def __init__(self, name, **kwargs):
            super().__init__(**kwargs)
            self.name = name

        def execute(self, context):
            return "hello " + self.name
    ''')


def zip_bytes(members: dict[str, str]) -> bytes:
    """A zip archive holding `members` (name -> text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def build(case: str, dag_file: str, dag_id: str | None = None, root: Path | None = None, **options: object) -> CodePackage:
    """The package of one DAG of a fixture folder (the first DAG when `dag_id` is None)."""
    folder = root or CASES / case
    source = (folder / dag_file).read_text(encoding="utf-8")
    analysis = analyze_module(source, dag_file, root=folder, inline_templates=False)  # the package ships template files
    workflow = next(w for w in analysis.workflows if dag_id is None or w.dag_id == dag_id)
    return build_package(workflow.dag_id, workflow.tasks, source, dag_file, folder, dag_file=dag_file,
                         dag_module=dag_file[:-3].replace("/", "."), **options)  # type: ignore[arg-type]


def names(package: CodePackage) -> list[str]:
    assert package.zip_bytes is not None, package.diagnostics
    return zipfile.ZipFile(io.BytesIO(package.zip_bytes)).namelist()


def member(package: CodePackage, name: str) -> str:
    assert package.zip_bytes is not None
    return zipfile.ZipFile(io.BytesIO(package.zip_bytes)).read(name).decode("utf-8")


def run_in_package(package: CodePackage, tmp_path: Path, code: str) -> object:
    """Extract the zip into a folder appended to sys.path (as Airflow does with its DAG folder) and run
    `code` in a fresh, isolated interpreter; it prints one JSON value, returned here. Only the package
    is on the path: the fixture folder and its DAG file are not."""
    assert package.zip_bytes is not None, package.diagnostics
    dags = tmp_path / "dags"
    dags.mkdir(parents=True)
    zipfile.ZipFile(io.BytesIO(package.zip_bytes)).extractall(dags)
    script = "import json, sys\nsys.path.append(sys.argv[1])\n" + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-I", "-c", script, str(dags)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, env={"AIRFLOW_HOME": str(tmp_path / "airflow"),
                                                          "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
