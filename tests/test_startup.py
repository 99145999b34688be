"""`dag-converter --version` and `--help` start without importing anything heavy (issue 9).

A behaviour test, not a timed one: it checks which modules a fresh interpreter has loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Top-level packages (and our own modules) that the quick commands must not import.
HEAVY = ("libcst", "jinja2", "rich", "boto3", "botocore", "yaml", "airflow",
         "dag_converter.analyzer", "dag_converter.registry", "dag_converter.targets._common", "dag_converter.targets.mwaa_serverless",
         "dag_converter.targets.dag_factory", "dag_converter.pipeline",
         "dag_converter.emit", "dag_converter.report", "dag_converter.storage", "dag_converter.batch", "dag_converter.verify")

_PROBE = """
import json, runpy, sys
sys.argv = ["dag-converter", *json.loads(sys.argv[1])]
try:
    runpy.run_module("dag_converter", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _loaded_after(args: list[str]) -> tuple[int, list[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], env=env, capture_output=True,
                            text=True, check=True, cwd=ROOT)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return data["code"], data["modules"]


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["convert", "--help"]], ids=" ".join)
def test_quick_commands_import_nothing_heavy(args: list[str]) -> None:
    code, modules = _loaded_after(args)
    assert code in (0, None)
    heavy = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []


#: What a one-file convert (the pre-commit hook's usual run) must not load: worker pools, the
#: report renderers it does not write, the other commands, rich on a pipe, S3 and Airflow. (convert
#: shares its --iam options with `dag-converter iam`, so iam.command, which holds only click
#: options, loads; the role derivation itself does not.)
NOT_FOR_ONE_FILE = ("jinja2", "rich", "boto3", "botocore", "airflow", "multiprocessing",
                    "concurrent.futures.process", "dag_converter.deploy", "dag_converter.iam.policy",
                    "dag_converter.iam.arns", "dag_converter.iam.roles", "dag_converter.iam.workflows",
                    "dag_converter.verify", "dag_converter.report.html", "dag_converter.report.sarif",
                    "dag_converter.report.markdown", "dag_converter.report.json_report",
                    "dag_converter.report.output", "dag_converter.storage.s3", "dag_converter.registry._build",
                    "dag_converter.registry._iam", "dag_converter.registry._render")


def test_a_one_file_convert_imports_only_what_it_needs(tmp_path: Path) -> None:
    dag = tmp_path / "etl.py"
    dag.write_text((ROOT / "fixtures" / "dags" / "depth_chain.py").read_text(encoding="utf-8"), encoding="utf-8")
    code, modules = _loaded_after(["convert", str(dag), "-o", str(tmp_path / "out"), "--report-format", "none",
                                   "--fail-on-change"])
    assert code == 1  # the YAML was created
    assert (tmp_path / "out" / "depth_chain.yaml").exists() or list((tmp_path / "out").glob("*.yaml"))
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in NOT_FOR_ONE_FILE)]
    assert loaded == []
    assert "libcst" in modules and "dag_converter.pipeline" in modules  # it did convert
