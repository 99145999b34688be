"""Converting the fixture DAG files the way the CLI does, with paths relative to the repository."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dag_converter.model import Diagnostic, FileResult
from dag_converter.pipeline import Options, read_and_convert
from dag_converter.sources import SourceFile

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "fixtures" / "dags"
TODAY = dt.date(2026, 11, 24)


def fixture_files() -> list[Path]:
    return sorted(p for p in DAGS.rglob("*.py") if "__pycache__" not in p.parts)


def case_id(path: Path) -> str:
    return path.relative_to(DAGS).with_suffix("").as_posix().replace("/", "__")


def convert_fixture(path: Path, options: Options | None = None) -> FileResult:
    display = path.relative_to(ROOT).as_posix()
    relative = path.relative_to(DAGS).as_posix()
    return read_and_convert(SourceFile(display, relative, path), options or Options(today=TODAY), True)


def render_concise(diagnostics: list[Diagnostic]) -> str:
    lines = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        lines.append(f"{d.span.path}:{d.span.line}:{d.span.column}: {d.code} [{d.severity.value}] {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    return "\n".join(lines) + "\n"
