"""Converting the fixture DAG files the way the CLI does, with paths relative to the repository."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

from dag_converter.batch import convert_sources
from dag_converter.model import Diagnostic, FileResult
from dag_converter.pipeline import Options
from dag_converter.report.concise import format_diagnostics
from dag_converter.storage.local import local_source
from dag_converter.targets import get_target

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "fixtures" / "dags"
TODAY = dt.date(2026, 11, 24)


def fixture_files() -> list[Path]:
    return sorted(p for p in DAGS.rglob("*.py") if "__pycache__" not in p.parts)


def case_id(path: Path) -> str:
    return path.relative_to(DAGS).with_suffix("").as_posix().replace("/", "__")


#: Fixtures under fixtures/dags/dag_factory/ are converted for the dag-factory target, with the
#: dags folder given as Airflow's own environment variable (set to fixtures/dags when verifying).
DAG_FACTORY = DAGS / "dag_factory"
DAG_FACTORY_DAGS_FOLDER = "$AIRFLOW__CORE__DAGS_FOLDER"


def is_dag_factory_case(path: Path) -> bool:
    return DAG_FACTORY in path.parents


#: Fixtures converted with --once-as manual.
ONCE_AS_MANUAL: Final = frozenset({"once_as_manual.py"})


def fixture_options(path: Path) -> Options:
    if is_dag_factory_case(path):
        return Options(target=get_target("dag-factory", dags_folder=DAG_FACTORY_DAGS_FOLDER), today=TODAY)
    if path.name in ONCE_AS_MANUAL:
        return Options(target=get_target("mwaa-serverless", once_as="manual"), today=TODAY)
    return Options(today=TODAY)


def convert_fixture(path: Path, options: Options | None = None) -> FileResult:
    display = path.relative_to(ROOT).as_posix()
    relative = path.relative_to(DAGS).as_posix()
    return convert_sources([local_source(path, display, relative)], options or fixture_options(path))[0]


def render_concise(diagnostics: list[Diagnostic]) -> str:
    return format_diagnostics(diagnostics) or "\n"


def render_reads(result: FileResult) -> str:
    """Each DAG's run-time reads inventory (the report's `reads`), one line a read: '' when none."""
    lines = [f"{dag.dag_id}\t{read.kind}\t{read.name or '?'}\t{read.span.path}:{read.span.line}"
             for dag in result.dags for read in dag.workflow.reads]
    return "".join(line + "\n" for line in lines)
