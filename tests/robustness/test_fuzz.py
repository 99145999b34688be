"""Fuzzing the whole pipeline with mutated DAG sources (hypothesis).

Each input starts from a real DAG file (tests/verify_cases, fixtures/dags, an S3 DAG) and is
mutated: lines deleted, duplicated, swapped, truncated, tokens and odd bytes inserted. The
converter must never raise, crash or hang: every input ends as a conversion or diagnostics, and
no DC901 (an exception the pipeline caught). The inputs run in a worker process with a time limit
per input. CI runs a few hundred; `DAG_CONVERTER_FUZZ_EXAMPLES=20000` runs more (docs/robustness.md).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._support import ROOT, seed_sources

EXAMPLES = int(os.environ.get("DAG_CONVERTER_FUZZ_EXAMPLES", "300"))
TIME_LIMIT = float(os.environ.get("DAG_CONVERTER_FUZZ_TIMEOUT", "30"))  #: seconds per input (a hang guard)
FAILURES = Path(os.environ.get("DAG_CONVERTER_FUZZ_FAILURES", ROOT / ".fuzz-failures"))
STATUSES = {"converted", "partial", "refused", "no-dags", "unreadable"}

SEEDS = seed_sources()
TOKENS = [
    "(", ")", "[", "]", "{", "}", ":", ",", ".", ">>", "<<", "=", "*", "**", "@", "\\", "'", '"', '"""', "'''",
    "f'{", "}'", "#", "\t", "\r", "\r\n", "\n", "\x00", "\x0c", "\ufeff", "\u2028", "\x85", "é", "𝔘",
    "lambda x: ", "yield ", "await ", "async ", "not ", " if x else ", "for i in range(10 ** 9): pass\n",
    "while True: pass\n", "import os\n", "from . import x\n", "from __future__ import annotations\n",
    "# -*- coding: latin-1 -*-\n", "# -*- coding: nope -*-\n", "DAG(", "with DAG('d') as dag:\n    ",
    "task_id=", "dag_id=", "'$HOME'", "'../x'", "None", "True", "1e309", "0x", "9" * 5000, "(" * 300,
    "[" * 120, "-" * 2000, "+x" * 3000, "def f(*a, **k):\n    return f(*a)\n", "class C:\n    x = 1\n",
    "global x\n", "del x\n", "match x:\n    case 1:\n        pass\n", "try:\n    pass\nexcept:\n    pass\n",
    "chain(*[t] * 100000)\n", "x.set_upstream(x)\n", "TaskGroup('g')", ".expand(x=[1])", "@task\n",
    "@dag(schedule=None)\n", "timedelta(days=10**9)", "datetime(9999, 12, 31)", "'{{ ds }'", "'%s' % (1,)",
]


def _mutate(source: str, operations: list[tuple[int, int, int, int]]) -> bytes:
    lines = source.splitlines(keepends=True) or [""]
    truncate_to = None
    for kind, a, b, c in operations:
        i, j = a % len(lines), b % len(lines)
        if kind == 0 and len(lines) > 1:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[j])
        elif kind == 2:
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 3:
            line = lines[i]
            at = c % (len(line) + 1)
            lines[i] = line[:at] + TOKENS[j % len(TOKENS)] + line[at:]
        elif kind == 4:
            line = lines[i]
            at = c % (len(line) + 1)
            lines[i] = line[:at] + line[at + 1 + b % 5:]
        elif kind == 5:
            truncate_to = c
    text = "".join(lines)
    if truncate_to is not None:
        text = text[: truncate_to % (len(text) + 1)]
    return text.encode("utf-8", "surrogatepass")


class Worker:
    """The fuzz worker process; restarted after a crash or a hang."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.inputs = 0

    def start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.Popen([sys.executable, "-m", "tests.robustness._fuzz_worker"], cwd=ROOT, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def convert(self, data: bytes) -> dict[str, object]:
        if self.process is None or self.process.poll() is not None:
            self.process = self.start()
        self.inputs += 1
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(len(data).to_bytes(8, "big") + data)
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], TIME_LIMIT)
        if not ready:
            self.stop()
            return {"error": f"no answer within {TIME_LIMIT} s (a hang)"}
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            self.process = None
            return {"error": f"worker died with exit status {code} (a crash)"}
        return json.loads(line)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    running = Worker()
    yield running
    running.stop()
    print(f"\nfuzz: {running.inputs} inputs converted in the worker")


def _check(worker: Worker, data: bytes) -> None:
    answer = worker.convert(data)
    problem = answer["error"]
    if problem is None and answer.get("status") not in STATUSES:
        problem = f"unknown status {answer.get('status')!r}"
    if problem is None and "DC901" in answer.get("codes", []):
        problem = "DC901: the pipeline caught an exception"
    if problem is None and not (answer.get("dags") or answer.get("codes")):
        problem = "neither a DAG nor a diagnostic"
    if problem is not None:
        FAILURES.mkdir(exist_ok=True)
        saved = FAILURES / f"input-{abs(hash(data)):x}.py"
        saved.write_bytes(data)
        pytest.fail(f"{problem}\ninput saved as {saved}\n{answer}")


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seeds_convert_cleanly(worker: Worker, name: str) -> None:
    _check(worker, SEEDS[name].encode("utf-8"))


operations = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 10**6), st.integers(0, 10**6),
                                st.integers(0, 10**6)), min_size=1, max_size=8)


@settings(max_examples=EXAMPLES, deadline=None, derandomize="DAG_CONVERTER_FUZZ_RANDOM" not in os.environ,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(sorted(SEEDS)), ops=operations)
def test_mutated_sources_never_crash_or_hang(worker: Worker, seed: str, ops: list[tuple[int, int, int, int]]) -> None:
    _check(worker, _mutate(SEEDS[seed], ops))


@settings(max_examples=max(EXAMPLES // 3, 50), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000) | st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_random_bytes_never_crash_or_hang(worker: Worker, data: bytes) -> None:
    _check(worker, b"from airflow import DAG\n" + data)
