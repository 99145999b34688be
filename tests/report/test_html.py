"""conversion-report.html: escaped, self-contained, and clean in a real browser."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from dag_converter.model import DagResult, Diagnostic, FileResult, Severity, Span, Task, Workflow
from dag_converter.report import build_report
from dag_converter.report.html import layout_graph, render_html, render_html_from

ROOT = Path(__file__).resolve().parents[2]


def _load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("screenshot_report", ROOT / "scripts" / "screenshot_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


screenshot_report = _load_script()

HOSTILE = '<script>alert("x")</script>'


def _hostile_report():  # type: ignore[no-untyped-def]
    path = "dags/<evil>.py"
    tasks = (Task("start", "airflow.providers.standard.operators.empty.EmptyOperator", Span(path, 4, 5)),
             Task(HOSTILE, "airflow.providers.standard.operators.python.PythonOperator", Span(path, 5, 5),
                  upstream=("start",)))
    workflow = Workflow(HOSTILE, Span(path, 3, 6), tasks=tasks)
    diagnostic = Diagnostic("DC301", Severity.ERROR, f"{HOSTILE} does not run", Span(path, 5, 5), hint="<b>hint</b>")
    dag = DagResult(workflow, (diagnostic,), None)
    report = build_report("mwaa-serverless", [FileResult(path, "refused", (), (dag,))])
    source = "from airflow import DAG\n\nwith DAG('x'):\n    start = EmptyOperator()\n    PythonOperator('<&>')\n"
    return report, {path: source}


def test_everything_from_user_files_is_escaped() -> None:
    report, sources = _hostile_report()
    html = render_html_from(report, sources)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<b>hint</b>" not in html and "&lt;b&gt;hint&lt;/b&gt;" in html
    assert "PythonOperator(&#39;&lt;&amp;&gt;&#39;)" in html  # the source line, shown and escaped
    assert "dags/&lt;evil&gt;.py" in html


def test_page_loads_nothing() -> None:
    report, sources = _hostile_report()
    html = render_html_from(report, sources)
    assert "Content-Security-Policy" in html
    # No fetchable reference: every src/href is an in-page anchor (the SVG namespace is not fetched).
    references = re.findall(r'\b(?:src|href)="([^"]*)"', html)
    assert references and all(ref.startswith("#") for ref in references)
    assert "<link" not in html and "@import" not in html and "url(http" not in html


def test_layout_puts_each_task_right_of_its_upstream() -> None:
    span = Span("d.py", 1, 1)
    op = "airflow.providers.standard.operators.empty.EmptyOperator"
    tasks = (Task("a", op, span), Task("b", op, span, upstream=("a",)), Task("c", op, span, upstream=("a",)),
             Task("d", op, span, upstream=("b", "c")))
    graph = layout_graph(Workflow("w", span, tasks=tasks))
    assert graph is not None
    x = {n.task_id: n.x for n in graph.nodes}
    assert x["a"] < x["b"] == x["c"] < x["d"]
    assert {(e.upstream, e.downstream) for e in graph.edges} == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}


def test_layout_survives_a_cycle() -> None:
    span = Span("d.py", 1, 1)
    op = "airflow.providers.standard.operators.empty.EmptyOperator"
    tasks = (Task("a", op, span, upstream=("b",)), Task("b", op, span, upstream=("a",)))
    graph = layout_graph(Workflow("w", span, tasks=tasks))
    assert graph is not None and len(graph.nodes) == 2


def test_fixture_report_shows_source_lines(tmp_path: Path) -> None:
    html = screenshot_report.render_fixture_report(tmp_path).read_text(encoding="utf-8")
    assert "tests/report_cases/python_callable.py:17:12" in html
    assert 'step = PythonOperator(task_id=&#34;transform&#34;, python_callable=transform)' in html
    assert html.count("<svg") >= 10


@pytest.mark.skipif(screenshot_report.find_chromium() is None,
                    reason="Chromium not installed (Debian: apt-get install chromium; or set CHROMIUM)")
def test_fixture_report_renders_in_chromium_without_console_errors(tmp_path: Path) -> None:
    html = screenshot_report.render_fixture_report(tmp_path)
    shot = tmp_path / "report.png"
    run = screenshot_report.load_page(screenshot_report.find_chromium(), html, screenshot=shot)
    assert run.console == [], run.stderr
    assert "python_callable" in run.dom and "</svg>" in run.dom
    assert shot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(screenshot_report.find_chromium() is None, reason="Chromium not installed")
def test_console_check_catches_a_broken_page(tmp_path: Path) -> None:
    """The console check would see a problem: the same CSP blocking a remote image."""
    report, sources = _hostile_report()
    page = tmp_path / "broken.html"
    page.write_text(render_html_from(report, sources).replace(
        "</main>", '<img src="https://example.invalid/x.png" alt=""></main>'), encoding="utf-8")
    run = screenshot_report.load_page(screenshot_report.find_chromium(), page)
    assert any("Content Security Policy" in message for message in run.console), run.stderr


def test_render_html_reads_sources_from_disk(tmp_path: Path) -> None:
    dag_file = tmp_path / "dag.py"
    dag_file.write_text("line one\n    bad_call()\n", encoding="utf-8")
    diagnostic = Diagnostic("DC204", Severity.ERROR, "unsupported", Span(str(dag_file), 2, 5))
    report = build_report("mwaa-serverless", [FileResult(str(dag_file), "refused", (diagnostic,))])
    html = render_html(report)
    assert "    bad_call()" in html and "    ^" in html
