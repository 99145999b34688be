"""conversion-report.html: one self-contained page for people reviewing a migration.

The page has no scripts and loads nothing: CSS is inline and a Content-Security-Policy forbids
every fetch, so it opens the same from a laptop, a CI artifact or an air-gapped bastion. The
template autoescapes; everything it shows (ids, messages, source lines) is data from user files.
Task graphs are laid out here, in Python, as plain numbers the template turns into SVG.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from dag_converter import __version__
from dag_converter.model import DagResult, Diagnostic, FileStatus, Severity, Workflow
from dag_converter.report._model import RunReport

if TYPE_CHECKING:
    from dag_converter.iam.policy import RoleDerivation

NODE_HEIGHT: Final = 38
ROW_GAP: Final = 14
COLUMN_GAP: Final = 56
MAX_LABEL: Final = 40  #: characters shown in a node; the full id is in its tooltip
MAX_GRAPH_TASKS: Final = 300  #: above this an SVG is unreadable; the text rendering remains


@dataclass(frozen=True, slots=True)
class Node:
    task_id: str
    label: str
    operator: str  #: class name without its module
    x: int
    y: int
    width: int
    line: int


@dataclass(frozen=True, slots=True)
class Edge:
    upstream: str
    downstream: str
    path: str  #: SVG path data


@dataclass(frozen=True, slots=True)
class Graph:
    width: int
    height: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


@dataclass(frozen=True, slots=True)
class SourceDiagnostic:
    """A diagnostic with the source line it points at, for display."""

    diagnostic: Diagnostic
    source_line: str | None
    caret: str | None  #: spaces then '^' under the column, or None without a column


def layout_graph(workflow: Workflow) -> Graph | None:
    """Layered left-to-right layout: a task's column is its longest path from a root task."""
    tasks = workflow.tasks
    if not tasks or len(tasks) > MAX_GRAPH_TASKS:
        return None
    ids = [t.task_id for t in tasks]
    known = set(ids)
    upstream = {t.task_id: [u for u in t.upstream if u in known] for t in tasks}
    depth: dict[str, int] = {}
    # Bounded relaxation instead of recursion: a cycle (DC314) must not hang or overflow the report.
    for _ in range(len(tasks)):
        changed = False
        for task_id in ids:
            new = max((depth.get(u, 0) + 1 for u in upstream[task_id]), default=0)
            new = min(new, len(tasks) - 1)
            if depth.get(task_id) != new:
                depth[task_id] = new
                changed = True
        if not changed:
            break
    columns: dict[int, list[str]] = {}
    for task_id in ids:
        columns.setdefault(depth[task_id], []).append(task_id)
    labels = {t: (t if len(t) <= MAX_LABEL else t[:MAX_LABEL - 1] + "…") for t in ids}
    operators = {t.task_id: t.operator.rsplit(".", 1)[-1] for t in tasks}
    lines = {t.task_id: t.span.line for t in tasks}
    column_width = {c: max(max(len(labels[t]), len(operators[t])) * 7 + 24 for t in members)
                    for c, members in columns.items()}
    x_of: dict[int, int] = {}
    x = 8
    for column in sorted(columns):
        x_of[column] = x
        x += column_width[column] + COLUMN_GAP
    nodes: dict[str, Node] = {}
    for column, members in columns.items():
        for row, task_id in enumerate(members):
            nodes[task_id] = Node(task_id, labels[task_id], operators[task_id], x_of[column],
                                  8 + row * (NODE_HEIGHT + ROW_GAP), column_width[column], lines[task_id])
    edges = []
    for task_id in ids:
        head = nodes[task_id]
        for up in upstream[task_id]:
            tail = nodes[up]
            x1, y1 = tail.x + tail.width, tail.y + NODE_HEIGHT // 2
            x2, y2 = head.x, head.y + NODE_HEIGHT // 2
            bend = max(COLUMN_GAP // 2, abs(x2 - x1) // 3)
            edges.append(Edge(up, task_id, f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2 - 4},{y2}"))
    height = max(n.y for n in nodes.values()) + NODE_HEIGHT + 8
    return Graph(x - COLUMN_GAP + 8, height, tuple(nodes[t] for t in ids), tuple(edges))


def read_source_lines(path: str) -> list[str] | None:
    """The lines of a local source file as they are now, or None (S3, unreadable, vanished)."""
    if "://" in path:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    # Lossy decoding is right for display: an undecodable file is itself a diagnostic (DC102).
    return data.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()


def with_source(diagnostics: Sequence[Diagnostic],
                lines_of: Callable[[str], Sequence[str] | None]) -> list[SourceDiagnostic]:
    shown = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        lines = lines_of(d.span.path) if d.span.line > 0 else None
        source = lines[d.span.line - 1] if lines is not None and d.span.line <= len(lines) else None
        caret = None
        if source is not None and d.span.column > 0:
            # Keep tabs so the caret lines up with the source line in a <pre>.
            prefix = source[:d.span.column - 1]
            caret = "".join(ch if ch == "\t" else " " for ch in prefix) + "^"
        shown.append(SourceDiagnostic(d, source, caret))
    return shown


def _dag_view(dag: DagResult, lines_of: Callable[[str], Sequence[str] | None], index: int,
              role: "RoleDerivation | None" = None) -> dict[str, object]:
    workflow = dag.workflow
    errors = sum(1 for d in dag.diagnostics if d.severity is Severity.ERROR)
    return {
        "anchor": f"dag-{index}",
        "dag": dag,
        "graph": layout_graph(workflow),
        "too_many_tasks": len(workflow.tasks) > MAX_GRAPH_TASKS,
        "dependencies": [(t.task_id, t.operator, list(t.upstream), t.span.line) for t in workflow.tasks],
        "diagnostics": with_source(dag.diagnostics, lines_of),
        "errors": errors,
        # convert --iam: (task_id, operator class name, actions or None when not derived) per task
        "role": None if role is None else {
            "file": f"{role.dag_id}.iam.json", "statements": len(role.policy.get("Statement", ())),
            "tasks": [(t.task_id, t.operator.rsplit(".", 1)[-1], list(t.actions) if t.derived else None)
                      for t in role.tasks]},
    }


def render_html(report: RunReport, lines_of: Callable[[str], Sequence[str] | None] = read_source_lines) -> str:
    """The whole page. `lines_of` gives a file's current lines (tests pass a dict's get)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    cache: dict[str, Sequence[str] | None] = {}

    def cached(path: str) -> Sequence[str] | None:
        if path not in cache:
            cache[path] = lines_of(path)
        return cache[path]

    environment = Environment(
        loader=PackageLoader("dag_converter.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    template = environment.get_template("report.html.j2")
    roles = {role.dag_id: role for role in report.execution_roles}
    files = []
    index = 0
    for result in report.files:
        if result.status == FileStatus.SKIPPED:
            continue
        dags = []
        for dag in result.dags:
            dags.append(_dag_view(dag, cached, index, roles.get(dag.dag_id) if dag.converted else None))
            index += 1
        files.append({"result": result, "dags": dags, "diagnostics": with_source(result.diagnostics, cached)})
    return template.render(
        report=report,
        summary=report.summary(),
        version=__version__,
        files=files,
        run_diagnostics=with_source(report.run_diagnostics, cached),
        node_height=NODE_HEIGHT,
    )


def render_html_from(report: RunReport, sources: Mapping[str, str]) -> str:
    """render_html with the sources given as text (for tests and S3 runs that already hold them)."""
    return render_html(report, lambda path: sources[path].splitlines() if path in sources else None)


__all__ = ["Graph", "layout_graph", "read_source_lines", "render_html", "render_html_from"]
