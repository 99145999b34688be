"""Render the HTML report of the test fixtures in headless Chromium, screenshot it, and fail on any
console message.

    python scripts/screenshot_report.py [--output report.png] [--html existing-report.html]

Without --html it converts fixtures/dags and tests/report_cases in memory (nothing is
written next to them) and renders their report into a temporary folder. Needs Debian's
`chromium` (or CHROMIUM=/path/to/binary). Exit status: 0 clean, 1 console messages, 2 no Chromium.
The report has no scripts and a CSP that forbids every fetch, so any console line at all (a
blocked load, a parse error) means the page is broken.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = (ROOT / "fixtures" / "dags", ROOT / "tests" / "report_cases")
#: `[pid:tid:time:INFO:CONSOLE:1] "message", source: file:///... (1)` with --enable-logging=stderr
CONSOLE_LINE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)?\]\s*(.*)")
#: Chromium quits on its own once the page is loaded; this only stops a hung browser
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class BrowserRun:
    console: list[str]  #: console messages Chromium logged while loading the page
    dom: str  #: the DOM after load (--dump-dom)
    stderr: str


def find_chromium() -> str | None:
    candidate = os.environ.get("CHROMIUM")
    if candidate:
        return candidate
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def render_fixture_report(folder: Path, paths: tuple[Path, ...] = FIXTURES) -> Path:
    """Convert the fixtures in memory and write only conversion-report.html into `folder`."""
    sys.path.insert(0, str(ROOT))
    from dag_converter.batch import convert_paths
    from dag_converter.pipeline import Options
    from dag_converter.report import build_report
    from dag_converter.report.html import render_html

    # Paths relative to the repository root make the report the same on every machine.
    given = [os.path.relpath(p, ROOT) for p in paths]
    previous = os.getcwd()
    os.chdir(ROOT)
    try:
        results, problems = convert_paths(given, Options())
        html = render_html(build_report("mwaa-serverless", results, problems))
    finally:
        os.chdir(previous)
    target = folder / "conversion-report.html"
    target.write_text(html, encoding="utf-8")
    return target


def _flags(profile: Path) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]


def load_page(chromium: str, html: Path, *, screenshot: Path | None = None,
              window: tuple[int, int] = (1280, 2400)) -> BrowserRun:
    """Load `html` once to dump the DOM and collect console messages, and once more for a screenshot."""
    url = html.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="dag-converter-chromium-") as tmp:
        run = subprocess.run([chromium, *_flags(Path(tmp) / "profile"), "--dump-dom", url],
                             capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        stderr = run.stderr
        if screenshot is not None:
            shot = subprocess.run([chromium, *_flags(Path(tmp) / "profile-shot"), f"--screenshot={screenshot}",
                                   f"--window-size={window[0]},{window[1]}", url],
                                  capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
            stderr += shot.stderr
    console = [m.group(1) for line in stderr.splitlines() if (m := CONSOLE_LINE.search(line))]
    return BrowserRun(console, run.stdout, stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("conversion-report.png"), help="screenshot file")
    parser.add_argument("--html", type=Path, default=None, help="an existing report instead of the fixtures'")
    parser.add_argument("--window", default="1280,2400", help="WIDTH,HEIGHT of the screenshot")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("error: Chromium not found (apt-get install chromium, or set CHROMIUM)", file=sys.stderr)
        return 2
    width, height = (int(v) for v in args.window.split(","))
    with tempfile.TemporaryDirectory(prefix="dag-converter-report-") as tmp:
        html = args.html or render_fixture_report(Path(tmp))
        run = load_page(chromium, html, screenshot=args.output.resolve(), window=(width, height))
    for message in run.console:
        print(f"console: {message}", file=sys.stderr)
    if not args.output.is_file():
        print(f"error: Chromium wrote no screenshot:\n{run.stderr}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}", file=sys.stderr)
    return 1 if run.console else 0


if __name__ == "__main__":
    sys.exit(main())
