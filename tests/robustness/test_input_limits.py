"""Hostile and unusual input: every file ends as a one-line diagnostic or a conversion, never a
crash, a RecursionError, a segmentation fault or a hang; odd encodings convert with right lines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from dag_converter.batch import convert_sources
from dag_converter.pipeline import convert_source
from dag_converter.storage import open_sources

from ._support import OPTIONS, dag_source, run_cli

HEAD = "from airflow import DAG\n"

# name -> source; each must be refused with DC108 (too complex) and nothing else going wrong.
# libcst's native parser overflows the C stack on most of these (a segfault), so they run in a
# subprocess: a regression fails this test instead of killing the test run.
TOO_COMPLEX = {
    "parens_5000.py": HEAD + "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "lists_5000.py": HEAD + "x = " + "[" * 5000 + "1" + "]" * 5000 + "\n",
    "dicts_3000.py": HEAD + "x = " + "{'a': " * 3000 + "1" + "}" * 3000 + "\n",
    "plus_chain_100k.py": HEAD + "x = " + " + ".join(["a"] * 100_000) + "\n",
    "unary_50k.py": HEAD + "x = " + "-" * 50_000 + "1\n",
    "not_chain.py": HEAD + "x = " + "not " * 20_000 + "1\n",
    "lambda_chain.py": HEAD + "x = " + "lambda: " * 10_000 + "1\n",
    "ternary_chain.py": HEAD + "x = " + "1 if a else " * 10_000 + "1\n",
    "attribute_chain.py": HEAD + "x = a" + ".b" * 100_000 + "\n",
    "call_chain.py": HEAD + "x = f" + "()" * 20_000 + "\n",
    "power_chain.py": HEAD + "x = " + " ** ".join(["2"] * 20_000) + "\n",
    "string_concat.py": HEAD + "x = (" + " ".join(["'a'"] * 20_000) + ")\n",
    "elif_chain.py": HEAD + "if a:\n    pass\n" + "elif a:\n    pass\n" * 20_000,
    "blocks_150.py": HEAD + "".join(" " * i + "if a:\n" for i in range(150)) + " " * 150 + "pass\n",
    "million_elements.py": HEAD + "x = [" + ",".join(["1"] * 1_000_000) + "]\n",
    "endless_loop.py": HEAD + "while True:\n    pass\n",
    "doubling_string.py": HEAD + "x = 'ab'\nfor i in range(64):\n    x = x + x\n",
    "doubling_list.py": HEAD + "x = [1]\nfor i in range(64):\n    x.extend(x)\n",
    "squaring_int.py": HEAD + "x = 3\nfor i in range(64):\n    x = x * x\n",
    "replace_bomb.py": HEAD + "x = 'a' * 1000\nx = x.replace('a', x)\nx = x.replace('a', x)\n",
    "huge_range.py": HEAD + "for i in range(10 ** 12):\n    pass\n",
}

# Refused or resolved some other way, but without building a gigabyte on the way.
WIDE_FORMATS = {
    "percent_width.py": HEAD + "x = '%0999999999d' % 1\n",
    "percent_star.py": HEAD + "x = '%*d' % (10 ** 9, 1)\n",
    "format_width.py": HEAD + "x = '{:>999999999}'.format(1)\n",
    "format_nested.py": HEAD + "x = '{:{}}'.format(1, 10 ** 9)\n",
    "fstring_width.py": HEAD + "x = f'{1:>999999999}'\n",
    "ljust.py": HEAD + "x = 'a'.ljust(10 ** 9)\n",
    "long_int_literal.py": HEAD + "x = " + "9" * 10_000 + "\n",
}


def test_too_complex_inputs_are_refused_one_line_each(tmp_path: Path) -> None:
    """One CLI run over all of them: exit 2 (no DAG), one DC108 line per file, no traceback."""
    dags = tmp_path / "dags"
    dags.mkdir()
    for name, source in {**TOO_COMPLEX, **WIDE_FORMATS}.items():
        (dags / name).write_text(source, encoding="utf-8")

    result = run_cli("convert", dags, "--output", tmp_path / "out", timeout=600)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    lines = result.stderr.splitlines()
    for name in TOO_COMPLEX:
        found = [line for line in lines if line.startswith(str(dags / name) + ":") and " DC108 " in line]
        assert len(found) == 1, (name, result.stderr)
    report = json.loads((tmp_path / "out" / "conversion-report.json").read_text())
    statuses = {Path(f["path"]).name: f["status"] for f in report["files"]}
    assert all(statuses[name] == "unreadable" for name in TOO_COMPLEX), statuses
    assert not any(d["code"] == "DC901" for f in report["files"] for d in f["diagnostics"])


def test_nesting_just_under_the_limits_still_converts() -> None:
    """The limits are far above real code: 150 brackets and a 500-term chain are analysed."""
    source = dag_source("deep_but_fine") + "X = " + "(" * 150 + "1" + ")" * 150 + "\n"
    source += "Y = " + " + ".join(["'a'"] * 500) + "\n"

    result = convert_source(source.encode(), "deep.py", "deep.py", OPTIONS)

    assert result.status == "converted", result.all_diagnostics()


def test_file_over_size_limit_is_one_line(tmp_path: Path) -> None:
    """Default limit 5 MB; --max-file-size lowers it; the file is named with its size."""
    big = tmp_path / "big.py"
    big.write_bytes(dag_source("big").encode() + b"#" * (5 * 1024 * 1024))
    small = tmp_path / "small.py"
    small.write_text(dag_source("small"), encoding="utf-8")

    default = run_cli("convert", big, small, "--output", tmp_path / "out")
    lowered = run_cli("convert", small, "--max-file-size", "100", "--output", tmp_path / "out2")

    assert default.returncode == 1, default.stderr  # a file that cannot be read is an error (issue 16)
    assert [line for line in default.stderr.splitlines() if "DC107" in line] == [
        f"{big}:0:0: DC107 [error] file is {big.stat().st_size} bytes, over the 5242880-byte limit"]
    assert (tmp_path / "out" / "small.yaml").is_file()
    assert lowered.returncode == 2, lowered.stderr
    assert f"{small}:0:0: DC107 [error] file is {small.stat().st_size} bytes, over the 100-byte limit" \
        in lowered.stderr


def test_symlink_loops_and_dangling_links_are_walked_once(tmp_path: Path) -> None:
    """A folder linking to its parent, a link to itself and a dangling link: the walk ends."""
    dags = tmp_path / "dags"
    (dags / "sub").mkdir(parents=True)
    (dags / "sub" / "etl.py").write_text(dag_source("etl"), encoding="utf-8")
    (dags / "sub" / "up").symlink_to(dags, target_is_directory=True)
    (dags / "loop").symlink_to(dags / "loop")
    (dags / "self.py").symlink_to(dags / "self.py")
    (dags / "dangling.py").symlink_to(tmp_path / "nowhere.py")

    result = run_cli("convert", dags, "--output", tmp_path / "out", timeout=60)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "etl.yaml").is_file()
    report = json.loads((tmp_path / "out" / "conversion-report.json").read_text())
    assert [f["path"] for f in report["files"]] == [str(dags / "sub" / "etl.py")]


def test_files_that_vanish_or_change_kind_during_the_run(tmp_path: Path) -> None:
    """Found, then deleted, replaced by a folder or by a FIFO before reading: DC104, no hang."""
    dags = tmp_path / "dags"
    dags.mkdir()
    for name in ("a_ok", "b_vanished", "c_folder", "d_fifo"):
        (dags / f"{name}.py").write_text(dag_source(name), encoding="utf-8")
    files = open_sources([str(dags)]).sources
    assert [Path(f.display).name for f in files] == ["a_ok.py", "b_vanished.py", "c_folder.py", "d_fifo.py"]
    (dags / "b_vanished.py").unlink()
    (dags / "c_folder.py").unlink()
    (dags / "c_folder.py").mkdir()
    (dags / "d_fifo.py").unlink()
    os.mkfifo(dags / "d_fifo.py")  # opening a FIFO for reading blocks until a writer comes

    results = convert_sources(files, OPTIONS)

    assert [r.status for r in results] == ["converted", "unreadable", "unreadable", "unreadable"]
    details = [r.diagnostics[0] for r in results[1:]]
    assert [d.code for d in details] == ["DC104"] * 3
    assert "No such file" in details[0].message
    assert "not a regular file" in details[2].message


def test_special_paths_given_explicitly(tmp_path: Path) -> None:
    """A FIFO, a folder named *.py and a missing path on the command line: one line each."""
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.py"
    folder.mkdir()
    (folder / "inner.py").write_text(dag_source("inner"), encoding="utf-8")

    result = run_cli("convert", fifo, folder, tmp_path / "missing.py", "--output", tmp_path / "out", timeout=60)

    assert result.returncode == 0, result.stderr
    assert f"{fifo}:0:0: DC109 [error] not a regular file or folder: {fifo}" in result.stderr
    assert f"DC109 [error] no such file or folder: {tmp_path / 'missing.py'}" in result.stderr
    assert (tmp_path / "out" / "inner.yaml").is_file()


def test_spaces_and_non_ascii_names(tmp_path: Path) -> None:
    dags = tmp_path / "my dags" / "équipe données"
    dags.mkdir(parents=True)
    source = dags / "chargement quotidien ✓.py"
    source.write_text(dag_source("chargement_quotidien", bucket="données-été"), encoding="utf-8")
    out = tmp_path / "sortie à part"

    result = run_cli("convert", tmp_path / "my dags", "--output", out)

    assert result.returncode == 0, result.stderr
    document = yaml.safe_load((out / "chargement_quotidien.yaml").read_text(encoding="utf-8"))
    assert document["chargement_quotidien"]["tasks"]["list"]["bucket"] == "données-été"
    report = json.loads((out / "conversion-report.json").read_text(encoding="utf-8"))
    assert report["files"][0]["path"] == str(source)


# A DAG with a refused operator on line 9 (DC301) and an 'é' in a value, for encoding variants.
ENCODED_DAG = '''# -*- coding: latin-1 -*-
from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator
from airflow.operators.bash import BashOperator

with DAG("encoded", schedule="0 6 * * *", start_date=datetime(2030, 1, 1)) as dag:
    BashOperator(task_id="bash", bash_command="echo café")
    S3ListOperator(task_id="list", bucket="café")
'''


def _variant(kind: str) -> bytes:
    text = ENCODED_DAG
    if kind == "tabs":
        return text.replace("\n    ", "\n\t").encode("latin-1")
    if kind == "latin-1":
        return text.encode("latin-1")
    if kind == "crlf":
        return text.replace("\n", "\r\n").encode("utf-8").replace(b"latin-1", b"utf-8")
    if kind == "cr":
        return text.replace("\n", "\r").encode("utf-8").replace(b"latin-1", b"utf-8")
    if kind == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8").replace(b"latin-1", b"utf-8")
    if kind == "bom-crlf-tabs":
        return b"\xef\xbb\xbf" + text.replace("\n    ", "\n\t").replace("\n", "\r\n").encode("utf-8") \
            .replace(b"latin-1", b"utf-8")
    assert kind == "utf-8"
    return text.encode("utf-8").replace(b"latin-1", b"utf-8")


@pytest.mark.parametrize("kind", ["utf-8", "latin-1", "crlf", "cr", "bom", "tabs", "bom-crlf-tabs"])
def test_encodings_line_endings_and_tabs_convert_with_right_lines(kind: str) -> None:
    """The same DAG in each form: the same diagnostics at the same line, the same 'café'."""
    result = convert_source(_variant(kind), "encoded.py", "encoded.py", OPTIONS)

    assert len(result.dags) == 1, result.all_diagnostics()
    refused = [(d.code, d.span.line, d.span.column) for d in result.all_diagnostics() if d.code == "DC301"]
    assert refused == [("DC301", 9, 2 if "tabs" in kind else 5)]  # columns count characters
    bare = convert_source(_variant(kind).replace(b"BashOperator(", b"# BashOperator("), "e.py", "e.py", OPTIONS)
    assert bare.status == "converted", bare.all_diagnostics()
    document = yaml.safe_load(bare.dags[0].yaml_text)
    assert document["encoded"]["tasks"]["list"]["bucket"] == "café"


def test_wrong_declared_encoding_is_one_diagnostic() -> None:
    data = ENCODED_DAG.replace("latin-1", "utf-8").encode("latin-1")

    result = convert_source(data, "bad.py", "bad.py", OPTIONS)

    assert [(d.code, d.span.line) for d in result.all_diagnostics()] == [("DC102", 9)]


def test_deeply_nested_helper_module_imported_by_a_dag(tmp_path: Path) -> None:
    """Helper modules of the DAG folder are parsed too; they pass the same screen (no segfault)."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "settings.py").write_text("BUCKET = " + "(" * 5000 + "'b'" + ")" * 5000 + "\n", encoding="utf-8")
    (dags / "uses_settings.py").write_text(
        dag_source("uses_settings").replace("from airflow import DAG", "from airflow import DAG\nfrom settings import BUCKET"),
        encoding="utf-8")

    result = run_cli("convert", dags, "--output", tmp_path / "out", timeout=120)

    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out" / "uses_settings.yaml").is_file()


def test_identifier_newer_than_pythons_unicode_database_is_a_syntax_error() -> None:
    """Found by the fuzz test: libcst parsed U+31350 as a name, then its Name node rejected it."""
    result = convert_source(b"from airflow import DAG\n\xf0\xb1\x8d\x90\n", "u.py", "u.py", OPTIONS)

    assert [d.code for d in result.all_diagnostics()] == ["DC101"]


@pytest.mark.parametrize(("template", "codes"), [
    ("{{ params.x | no_such_filter }}", ["DC306"]),  # found by atheris: TemplateAssertionError escaped
    ("{{ ds | ds_nodash }}", []),  # Airflow's own filters are known
])
def test_unknown_template_filter_is_a_template_error(template: str, codes: list[str]) -> None:
    source = dag_source("filters").replace("bucket='amzn-s3-demo-bucket'", f"bucket='b', prefix={template!r}")

    result = convert_source(source.encode(), "f.py", "f.py", OPTIONS)

    assert [d.code for d in result.all_diagnostics() if d.severity.value == "error"] == codes


def test_string_with_an_escape_python_rejects_is_a_diagnostic() -> None:
    """Found by atheris: libcst parses "\\ucket", then evaluating it raised SyntaxError."""
    source = dag_source("escape").replace("bucket='amzn-s3-demo-bucket'", "bucket='raw-\\ucket'")

    result = convert_source(source.encode(), "e.py", "e.py", OPTIONS)

    assert [d.code for d in result.all_diagnostics()] == ["DC201"]
    assert "truncated \\uXXXX escape" in result.all_diagnostics()[0].message


@pytest.mark.parametrize("value", [
    "datetime(2030, 1, 10 ** 40)",  # found by atheris: OverflowError escaped
    "int(float('inf'))", "round(float('inf'))", "timedelta(days=10 ** 40)", "'%d' % float('inf')",
])
def test_overflowing_values_are_diagnostics(value: str) -> None:
    source = dag_source("overflow").replace("bucket='amzn-s3-demo-bucket'", f"bucket='b', prefix=str({value})")
    source = source.replace("from airflow import DAG", "from datetime import timedelta\nfrom airflow import DAG")

    result = convert_source(source.encode(), "o.py", "o.py", OPTIONS)

    assert "DC901" not in [d.code for d in result.all_diagnostics()]
    assert result.status == "refused", result.all_diagnostics()


def test_recursive_task_group_function_stops_at_the_budget(tmp_path: Path) -> None:
    """Found by the fuzz test: a @task_group function calling itself twice built groups whose cost
    grew with the DAG; 37,000 steps took minutes. Group work now counts against the step budget.
    Run through the CLI with a timeout, so a regression fails instead of hanging the suite."""
    dag = tmp_path / "groups.py"
    dag.write_text('''from datetime import datetime

from airflow.providers.amazon.aws.operators.s3 import S3ListOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, task_group


@task_group
def scan(bucket):
    first = S3ListOperator(task_id="list", bucket=bucket)
    first >> EmptyOperator(task_id="done")
    start >> scan("depth-a") >> scan("depth-b")


with DAG("recursive_groups", schedule="0 21 * * *", start_date=datetime(2030, 1, 1)):
    start = EmptyOperator(task_id="start")
    start >> scan("depth-a") >> scan("depth-b")
''', encoding="utf-8")

    result = run_cli("convert", dag, "--output", tmp_path / "out", timeout=120)

    assert result.returncode == 1, result.stderr
    assert " DC108 " in result.stderr and "Traceback" not in result.stderr
