"""Converting a DAG folder never runs its code: not the top level, decorators, default arguments,
class bodies or sibling `__init__.py` files. Each hostile file below would leave a marker file,
connect to a socket or call os.system if anything imported or executed it."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest

from dag_converter.pipeline import convert_source

from ._support import OPTIONS, run_cli

# Every payload writes MARKER (replaced with a real path) by a different route.
PAYLOADS = {
    "top_level.py": """
        from airflow import DAG
        open(MARKER + ".top", "w").write("ran")
        with DAG("top_level") as dag:
            pass
    """,
    "os_system.py": """
        import os
        from airflow import DAG
        os.system("touch " + MARKER + ".system")
        __import__("subprocess").run(["touch", MARKER + ".subprocess"])
        with DAG("os_system") as dag:
            pass
    """,
    "socket_call.py": """
        import socket
        from airflow import DAG
        socket.create_connection(("127.0.0.1", PORT)).sendall(b"ran")
        with DAG("socket_call") as dag:
            pass
    """,
    "decorator.py": """
        from airflow import DAG
        from airflow.decorators import dag

        def evil(f):
            open(MARKER + ".decorator", "w").write("ran")
            return f

        @evil
        @dag(dag_id=open(MARKER + ".decorator_arg", "w").write("ran") and "decorated")
        def decorated():
            pass

        decorated()
    """,
    "default_args.py": """
        from airflow import DAG

        def helper(x=open(MARKER + ".default", "w").write("ran")):
            return x

        with DAG("default_args", default_args={"owner": helper()}) as dag:
            pass
    """,
    "class_body.py": """
        from airflow import DAG
        from airflow.models import BaseOperator

        class Evil(BaseOperator):
            open(MARKER + ".class", "w").write("ran")
            exec("open(MARKER + '.exec', 'w').write('ran')")

        with DAG("class_body") as dag:
            Evil(task_id="evil")
    """,
    "pkg/__init__.py": """
        open(MARKER + ".init", "w").write("ran")
    """,
    "pkg/uses_pkg.py": """
        from airflow import DAG
        from . import something
        import pkg
        with DAG("uses_pkg") as dag:
            pass
    """,
    "missing_module.py": """
        from airflow import DAG
        import module_that_does_not_exist_anywhere
        from also_missing.sub import thing
        with DAG("missing_module", schedule=module_that_does_not_exist_anywhere.SCHEDULE) as dag:
            thing(task_id="t")
    """,
    "endless_while.py": """
        from airflow import DAG
        while True:
            pass
        with DAG("endless_while") as dag:
            pass
    """,
    "endless_counter.py": """
        from airflow import DAG
        n = 0
        while True:
            n = n + 1
        open(MARKER + ".after_loop", "w").write("ran")
    """,
    "huge_for.py": """
        from airflow import DAG
        for i in range(10 ** 12):
            pass
        for i in range(100_000):
            for j in range(100_000):
                pass
        with DAG("huge_for") as dag:
            pass
    """,
    "recursion.py": """
        from airflow import DAG
        def f(n):
            return f(n + 1)
        with DAG("recursion", default_args={"retries": f(0)}) as dag:
            pass
    """,
}


@pytest.fixture()
def listener() -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def _write_payloads(folder: Path, marker: Path, port: int) -> None:
    for name, body in PAYLOADS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        source = textwrap.dedent(body).replace("MARKER", repr(str(marker))).replace("PORT", str(port))
        path.write_text(source, encoding="utf-8")


def _assert_nothing_ran(marker: Path, listener: socket.socket, folder: Path) -> None:
    assert sorted(p.name for p in marker.parent.glob(marker.name + "*")) == []
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected
    assert not list(folder.rglob("__pycache__")), "something compiled or imported the DAG files"


def test_cli_run_over_hostile_folder_runs_nothing(tmp_path: Path, listener: socket.socket) -> None:
    """A real CLI run over the folder leaves no marker, no connection, no bytecode, no traceback."""
    dags, out, marker = tmp_path / "dags", tmp_path / "out", tmp_path / "marker"
    _write_payloads(dags, marker, listener.getsockname()[1])

    result = run_cli("convert", dags, "--output", out, timeout=300)

    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    _assert_nothing_ran(marker, listener, dags)
    for name in ("endless_while.py", "endless_counter.py", "huge_for.py"):
        assert f"{name}:" in result.stderr and "DC108" in result.stderr, result.stderr


@pytest.mark.parametrize("name", sorted(PAYLOADS), ids=lambda n: n.replace("/", "."))
def test_each_payload_is_analysed_statically(name: str, tmp_path: Path, listener: socket.socket) -> None:
    """Each file alone, in process: a result with diagnostics or YAML, and nothing executed."""
    marker = tmp_path / "marker"
    _write_payloads(tmp_path, marker, listener.getsockname()[1])
    data = (tmp_path / name).read_bytes()

    result = convert_source(data, name, name, OPTIONS)

    assert result.status in ("converted", "partial", "refused", "no-dags", "unreadable")
    assert result.dags or result.all_diagnostics()
    assert not any(d.code == "DC901" for d in result.all_diagnostics()), result.all_diagnostics()
    _assert_nothing_ran(marker, listener, tmp_path)


@pytest.mark.parametrize("name", ["endless_while.py", "endless_counter.py", "huge_for.py"])
def test_endless_loops_stop_at_the_step_budget(name: str, tmp_path: Path) -> None:
    """Loops that would never end when run are refused with DC108 naming the loop's line."""
    source = textwrap.dedent(PAYLOADS[name]).replace("MARKER", repr(str(tmp_path / "m")))

    result = convert_source(source.encode(), name, name, OPTIONS)

    found = [d for d in result.all_diagnostics() if d.code == "DC108"]
    assert found, result.all_diagnostics()
    assert found[0].span.line >= 3
