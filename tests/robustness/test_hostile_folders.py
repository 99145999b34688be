"""Hostile and broken folders (issue 16): one file never takes down the batch, the trust
boundaries hold, the same input gives the same bytes, files keep sane modes and names, and a
file that fails is an error in the exit status."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from dag_converter import batch
from dag_converter.batch.manifest import MANIFEST_NAME
from dag_converter.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from dag_converter.config import RunConfig
from dag_converter.report.concise import printable
from dag_converter.storage import open_sources
from dag_converter.storage.ignore import IgnoreSyntax, is_ignored, parse_airflowignore
from dag_converter.storage.local import LocalSink, remove_stale_temporaries, write_atomic
from dag_converter.targets._run_dependent import run_dependent_reason

from ._support import TODAY, dag_source, run_cli


def invoke(*args: str | os.PathLike[str]):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def run(paths: list[Path], out: Path, **settings: object) -> batch.RunResult:
    config = RunConfig(paths=tuple(map(str, paths)), output=str(out), jobs=1, today=TODAY,
                       report_formats=("json", "md"), **settings)  # type: ignore[arg-type]
    return batch.run(config)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def latin1_name(folder: Path, stem: bytes) -> Path:
    """A .py file whose name is latin-1 bytes (not UTF-8); skips where the file system refuses it."""
    raw = os.path.join(os.fsencode(folder), stem + b".py")
    try:
        with open(raw, "w", encoding="utf-8") as handle:
            handle.write(dag_source("latin"))
    except (OSError, UnicodeError):
        pytest.skip("this file system does not store names that are not UTF-8")
    return Path(os.fsdecode(raw))


# --------------------------------------------------------------------------------------------
# One file never takes down the batch


@pytest.mark.parametrize("where", ["", "sub/", "ignored/", "ignored/deeper/"])
def test_a_file_name_that_is_not_utf8_costs_one_line(tmp_path: Path, where: str) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "good.py", dag_source("good"))
    write(dags / ".airflowignore", "ignored/\n")
    (dags / where).mkdir(parents=True, exist_ok=True)
    latin1_name(dags / where, b"caf\xe9")
    (dags / where / b"d\xe9j\xe0".decode("utf-8", "surrogateescape")).mkdir(exist_ok=True)

    result = invoke("convert", dags, "-o", out, "-j", "1")

    assert (out / "good.yaml").is_file()
    report = json.loads((out / "conversion-report.json").read_text(encoding="utf-8"))
    json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    if where.startswith("ignored"):
        assert result.exit_code == EXIT_OK, result.output
        assert [f["path"] for f in report["files"]] == [str(dags / "good.py")]
    else:
        assert result.exit_code == EXIT_REFUSED, result.output
        lines = [line for line in result.output.splitlines() if "DC104" in line]
        assert len(lines) == 1 and "caf\\xe9.py" in lines[0] and "not valid UTF-8" in lines[0]


def test_a_surrogate_in_a_dag_id_is_refused_and_the_reports_are_written(tmp_path: Path) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "good.py", dag_source("good"))
    write(dags / "lone.py", dag_source("a\\ud800b").replace("'a\\\\ud800b'", '"a\\ud800b"'))
    write(dags / "pair.py", dag_source("x").replace("'x'", '"\\udcff\\ud800"'))

    result = invoke("convert", dags, "-o", out, "-j", "1")

    assert result.exit_code == EXIT_REFUSED, result.output
    assert result.output.count("DC111") == 2
    for name in ("conversion-report.json", "conversion-report.md", MANIFEST_NAME):
        (out / name).read_bytes().decode("utf-8")  # written, and valid UTF-8
    assert sorted(p.name for p in out.glob("*.yaml")) == ["good.yaml"]


HOSTILE_REGEXPS = [
    "a{4294967296}",  # a repetition count that overflows
    "(" * 5000 + "a" + ")" * 5000,  # thousands of nested groups
    "(x+x+)+y",  # catastrophic backtracking on a long name of x
    "(a|aa)+$",
    "(.*a){25}z",
    "(?=lookahead)x",  # not in RE2: skipped with a warning
    r"(a)\1",
    "[unclosed",
    "x" * 5000,  # longer than a line may be
]


def test_hostile_regexp_lines_are_bounded_or_skipped_with_a_warning(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    write(dags / ".airflowignore", "\n".join(HOSTILE_REGEXPS) + "\nskip_me\n")
    write(dags / ("x" * 200 + ".py"), dag_source("long_x"))
    write(dags / ("a" * 200 + ".py"), dag_source("long_a"))
    write(dags / "skip_me.py", dag_source("skipped"))
    write(dags / "sub" / ".airflowignore", "(x+x+)+y\n")
    write(dags / "sub" / "kept.py", dag_source("kept"))

    found = open_sources([str(dags)], ignore_syntax=IgnoreSyntax.REGEXP)

    names = sorted(Path(s.relative).name for s in found.sources)
    assert names == sorted(["kept.py", "x" * 200 + ".py", "a" * 200 + ".py"])
    warnings = [d for d in found.problems if d.code == "DC120"]
    assert [d.span.line for d in warnings] == [2, 6, 7, 8, 9]  # the nesting is over RE2's limit
    assert all(d.span.path.endswith(".airflowignore") and len(d.message) < 400 for d in warnings)
    assert "(?=lookahead)x" in warnings[1].message


def test_hostile_glob_lines_are_bounded(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    write(dags / ".airflowignore", "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n**/**/**/**/**/**/**/**/z\n[unclosed\n")
    write(dags / ("a" * 250)[:240] / ("a" * 200 + ".py"), dag_source("deep_a"))

    found = open_sources([str(dags)])

    assert len(found.sources) == 1
    assert [d.code for d in found.problems] == ["DC120"]  # `[unclosed`


@pytest.mark.parametrize(("lines", "path", "is_folder", "ignored"), [
    ("*.tmp.py\n", "a/b/c.tmp.py", False, True),  # a name at any depth
    ("/top.py\n", "a/top.py", False, False),  # anchored to the file's folder
    ("/top.py\n", "top.py", False, True),
    ("legacy/\n", "legacy", True, True),  # folders only
    ("legacy/\n", "legacy", False, False),
    ("*.py\n!keep.py\n", "keep.py", False, False),  # the last matching line wins
    ("*.py\n!keep.py\n", "other.py", False, True),
    ("a/**/z.py\n", "a/b/c/z.py", False, True),
    ("# just a comment\n", "x.py", False, False),
])
def test_glob_lines_match_as_airflow_3(lines: str, path: str, is_folder: bool, ignored: bool) -> None:
    rules = parse_airflowignore(lines, "")
    assert is_ignored(path, rules, is_folder=is_folder) is ignored


def test_nested_ignore_files_apply_below_their_folder(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    write(dags / "a" / ".airflowignore", "/only_here.py\nx_*.py\n")
    for relative in ("only_here.py", "a/only_here.py", "a/b/only_here.py", "x_1.py", "a/x_1.py", "a/b/x_2.py"):
        write(dags / relative, dag_source("n"))
    found = sorted(s.relative for s in open_sources([str(dags)]).sources)
    assert found == ["a/b/only_here.py", "only_here.py", "x_1.py"]


def test_regexp_lines_search_the_path_from_the_root_in_every_ignore_file(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    write(dags / "sub" / ".airflowignore", "^sub/b\\.py$\n^b\\.py$\n")
    for relative in ("b.py", "sub/b.py", "sub/c.py"):
        write(dags / relative, dag_source("n"))
    found = sorted(s.relative for s in open_sources([str(dags)], ignore_syntax=IgnoreSyntax.REGEXP).sources)
    assert found == ["b.py", "sub/c.py"]


def test_the_syntax_comes_from_the_config_and_defaults_to_glob(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    dags = tmp_path / "dags"
    write(dags / ".airflowignore", "^skip\n")
    write(dags / "skip_me.py", dag_source("skip_me"))
    write(dags / "keep.py", dag_source("keep"))
    monkeypatch.chdir(tmp_path)
    assert invoke("convert", dags, "-o", tmp_path / "glob").exit_code == EXIT_OK  # `^skip` is a name in glob
    assert (tmp_path / "glob" / "skip_me.yaml").is_file()
    write(tmp_path / "pyproject.toml", '[tool.dag-converter]\nairflowignore-syntax = "regexp"\n')
    assert invoke("convert", dags, "-o", tmp_path / "re").exit_code == EXIT_OK
    assert sorted(p.name for p in (tmp_path / "re").glob("*.yaml")) == ["keep.yaml"]
    write(tmp_path / "pyproject.toml", '[tool.dag-converter]\nairflowignore-syntax = "fnmatch"\n')
    bad = invoke("convert", dags, "-o", tmp_path / "bad")
    assert bad.exit_code == EXIT_USAGE and "airflowignore-syntax" in bad.output


def test_an_ignore_file_that_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    write(dags / "good.py", dag_source("good"))
    os.mkfifo(dags / ".airflowignore")
    result = run_cli("convert", dags, "-o", tmp_path / "out", timeout=60)
    assert result.returncode == EXIT_OK, result.stderr


DAMAGE = {
    "fingerprint is a number": lambda e: e.update(fingerprint=12),
    "outputs is a list": lambda e: e.update(outputs=["x.yaml"]),
    "a 300-character output name": lambda e: e.update(outputs={"a" * 300 + ".yaml": "0" * 64}),
    "an output outside the folder": lambda e: e.update(outputs={"../../outside.yaml": "0" * 64}),
    "an absolute output": lambda e: e.update(outputs={"/etc/passwd": "0" * 64}),
    "a digest that is not one": lambda e: e.update(outputs={k: 7 for k in e["outputs"]}),
    "result is missing": lambda e: e.pop("result"),
    "dags is a string": lambda e: e["result"].update(dags="oops"),
    "a line that is NaN": lambda e: e["result"]["dags"][0].update(line=float("nan")),
    "a line that is a bool": lambda e: e["result"]["dags"][0].update(line=True),
    "a restored output outside the folder": lambda e: e["result"]["dags"][0].update(output="../x.yaml"),
    "an unknown status": lambda e: e["result"].update(status="exploded"),
    "a diagnostic without fields": lambda e: e["result"].update(diagnostics=[{}]),
    "the entry is a list": lambda e: e.clear(),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_manifest_entry_means_convert_again(tmp_path: Path, damage: str) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "one.py", dag_source("one"))
    write(dags / "two.py", dag_source("two"))
    assert run([dags], out).skipped == 0
    assert run([dags], out).skipped == 2  # undamaged, both are skipped
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    entry = manifest["sources"][str(dags / "one.py")]
    DAMAGE[damage](entry)
    # json.dumps writes NaN as the bare word NaN, as a hand-edited or foreign file may hold
    (out / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")

    result = run([dags], out)

    assert result.skipped == 1  # two.py only: one.py is converted again
    assert [d.dag_id for f in result.results for d in f.dags if d.converted] == ["one", "two"]
    assert not (tmp_path / "outside.yaml").exists()


def test_a_manifest_that_is_not_an_object_or_too_large_is_ignored(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from dag_converter.batch import manifest as manifest_module

    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "one.py", dag_source("one"))
    run([dags], out)
    for text in ("[1, 2]", "null", '{"manifest_version": 1, "sources": []}', "[" * 100_000, "\ud800"):
        (out / MANIFEST_NAME).write_text(text, encoding="utf-8", errors="surrogatepass")
        assert run([dags], out).skipped == 0
    run([dags], out)
    monkeypatch.setattr(manifest_module, "MAX_MANIFEST_BYTES", 10)
    assert run([dags], out).skipped == 0


@pytest.mark.parametrize("name", ["[link=https:x]x.py", "[red]r.py", "[bold red]loud[not].py"])
def test_rich_markup_in_a_path_is_shown_literally(tmp_path: Path, name: str) -> None:
    dags = tmp_path / "d"
    write(dags / name, dag_source("x[/]"))  # refused (DC111): its id and path reach the summary table
    result = invoke("convert", dags, "-o", tmp_path / "out", "--color")
    assert result.exit_code == EXIT_REFUSED
    shown = "".join(result.output.split())  # the table may wrap a long cell
    assert "".join(name.split()) in shown
    assert "x[/]" in shown


CONTROL = ["\x1b[31mred", "bell\x07", "cr\rover", "nel\x85x", "ls\u2028x", "bidi\u202eevil", "nl\nx", "del\x7f"]


@pytest.mark.parametrize("text", CONTROL)
def test_control_characters_are_escaped_in_terminal_and_markdown(tmp_path: Path, text: str) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    try:
        write(dags / f"file_{text}.py", dag_source(f"id_{text}"))
    except (OSError, ValueError):
        pytest.skip("the file system refuses this name")
    result = run_cli("convert", dags, "-o", out)
    assert result.returncode == EXIT_REFUSED
    bad = [c for c in text if c != "\n" and (ord(c) < 32 or 0x7f <= ord(c) <= 0x9f or c in "\u2028\u202e")]
    markdown = (out / "conversion-report.md").read_bytes().decode("utf-8")
    for stream in (result.stderr, markdown):
        assert not any(c in stream for c in bad), repr(stream)
    assert f"file_{printable(text)}.py" in result.stderr and f"file_{printable(text)}.py" in markdown
    # one diagnostic, one line: its path and its id are on it, escaped
    [line] = [line for line in result.stderr.splitlines() if "DC111" in line]
    assert line.startswith(str(dags)) and f"file_{printable(text)}.py" in line


def test_printable_keeps_ordinary_text() -> None:
    assert printable("dags/ünï cödé.py: 'etl' [x]") == "dags/ünï cödé.py: 'etl' [x]"
    assert printable("\x1b\x07\r\n\x85\u2028\u2029\u202e\ud800") == \
        "\\x1b\\x07\\x0d\\x0a\\x85\\u2028\\u2029\\u202e\\ud800"


# --------------------------------------------------------------------------------------------
# Trust boundaries


def test_configuration_never_comes_from_the_folder_converted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work, dags = tmp_path / "work", tmp_path / "untrusted" / "dags"
    work.mkdir()
    write(dags / "good.py", dag_source("good"))
    write(dags / "pyproject.toml", '[tool.dag-converter]\noutput = "../../pwned"\nallow-operators = ["*"]\n')
    write(dags.parent / "pyproject.toml", '[tool.dag-converter]\noutput = "../pwned"\n')
    monkeypatch.chdir(work)

    assert invoke("convert", dags).exit_code == EXIT_OK

    assert (work / "output_yaml" / "good.yaml").is_file()
    assert not (tmp_path / "pwned").exists()
    write(work / "pyproject.toml", '[tool.dag-converter]\noutput = "mine"\n')
    assert invoke("convert", dags).exit_code == EXIT_OK
    assert (work / "mine" / "good.yaml").is_file()


@pytest.mark.parametrize("special", ["good.yaml", MANIFEST_NAME])
def test_a_fifo_in_the_output_costs_one_line_and_no_hang(tmp_path: Path, special: str) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "good.py", dag_source("good"))
    write(dags / "other.py", dag_source("other"))
    out.mkdir()
    os.mkfifo(out / special)

    result = run_cli("convert", dags, "-o", out, timeout=60)

    assert result.returncode in (EXIT_REFUSED, EXIT_USAGE), result.stderr
    assert stat.S_ISFIFO(os.lstat(out / special).st_mode)  # never replaced or read
    mentions = [line for line in result.stderr.splitlines() if special in line and "not a regular file" in line]
    assert len(mentions) == 1, result.stderr
    assert (out / "other.yaml").is_file()


@pytest.mark.parametrize("dag_id", ["etl\n", "etl\r\n", "\netl", "etl\x00", "etl\u2028"])
def test_a_dag_id_must_match_fully(tmp_path: Path, dag_id: str) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "a.py", dag_source(dag_id))
    result = run([dags], out)
    [dag] = result.results[0].dags
    assert not dag.converted and "DC111" in {d.code for d in dag.diagnostics}
    assert not any(out.glob("*.yaml"))


def test_ids_that_differ_only_by_case_are_refused(tmp_path: Path) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "a.py", dag_source("ETL"))
    write(dags / "b.py", dag_source("etl"))
    write(dags / "c.py", dag_source("Etl_2"))
    write(dags / "d.py", dag_source("other"))
    result = run([dags], out)
    codes = {d.dag_id: [x.code for x in d.diagnostics] for f in result.results for d in f.dags}
    assert codes["ETL"] == ["DC122"] and codes["etl"] == ["DC122"]
    assert codes["Etl_2"] == codes["other"] == []
    assert sorted(p.name for p in out.glob("*.yaml")) == ["Etl_2.yaml", "other.yaml"]


def test_replacing_a_yaml_written_from_another_source_needs_force(tmp_path: Path) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "first.py", dag_source("etl", bucket="first"))
    assert run([dags], out).written == 1
    (dags / "first.py").rename(dags / "second.py")
    (dags / "second.py").write_text(dag_source("etl", bucket="second"), encoding="utf-8")

    refused = run([dags], out)

    [dag] = refused.results[0].dags
    assert [d.code for d in dag.diagnostics] == ["DC121"] and "first.py" in dag.diagnostics[0].message
    assert "first" in (out / "etl.yaml").read_text(encoding="utf-8")
    assert run([dags], out).results[0].dags[0].diagnostics[0].code == "DC121"  # checked again, not remembered
    forced = run([dags], out, force=True)
    assert forced.results[0].dags[0].converted
    assert "from second.py" in (out / "etl.yaml").read_text(encoding="utf-8")
    assert run([dags], out).results[0].dags[0].converted  # its own YAML now


def test_symlinks_that_leave_the_dag_folder_are_not_read(tmp_path: Path) -> None:
    dags, outside, out = tmp_path / "dags", tmp_path / "outside", tmp_path / "out"
    write(dags / "good.py", dag_source("good"))
    write(outside / "evil.py", dag_source("evil"))
    write(outside / "sub" / "evil_2.py", dag_source("evil_2"))
    write(dags / "inner" / "shared.py", dag_source("shared"))
    (dags / "link.py").symlink_to(outside / "evil.py")
    (dags / "sublink").symlink_to(outside / "sub", target_is_directory=True)
    (dags / "inside_link").symlink_to(dags / "inner", target_is_directory=True)  # inside: fine, read once

    result = invoke("convert", dags, "-o", out, "-j", "1")

    assert result.exit_code == EXIT_REFUSED, result.output
    assert sorted(p.name for p in out.glob("*.yaml")) == ["good.yaml", "shared.yaml"]
    lines = [line for line in result.output.splitlines() if "DC104" in line]
    assert len(lines) == 2 and all("outside the DAG folder" in line for line in lines)
    assert any("link.py" in line for line in lines) and any("sublink" in line for line in lines)


# --------------------------------------------------------------------------------------------
# Same input, same bytes

RUN_DEPENDENT = [
    ('str({"a", "b", "c"})', "set"),
    ("f\"{ {'a', 'b'} }\"", "set"),
    ('str({"k": {"x", "y"}})', "set"),
    ('str([frozenset({"x", "y"})])', "set"),
    ('"{0.upper}".format("x")', "address"),
    ('"{0.split}".format("x")', "address"),
]


@pytest.mark.parametrize(("expression", "kind"), RUN_DEPENDENT)
def test_text_that_depends_on_the_run_is_refused_at_its_line(tmp_path: Path, expression: str, kind: str) -> None:
    source = dag_source("det").replace("bucket='amzn-s3-demo-bucket'", f"bucket={expression}")
    write(tmp_path / "dags" / "det.py", source)
    result = run([tmp_path / "dags"], tmp_path / "out")
    [dag] = result.results[0].dags
    assert not dag.converted
    [diagnostic] = [d for d in dag.diagnostics if d.code == "DC201"]
    assert diagnostic.span.line == 7
    assert ("set" if kind == "set" else "memory address") in diagnostic.message


@pytest.mark.parametrize("text", [
    "{'a': 1, 'b': 2}", "{1, 2, 3}", "frozenset({1, 2})", "{{ ds }}", "{{ params.x }}/{a,b}", "echo {a,b}",
    "{'single'}", "s3://bucket/key", "{'a', ", "<b>bold</b> at 0x", "[{'k': ['a', 'b']}]",
])
def test_deterministic_text_is_not_flagged(text: str) -> None:
    assert run_dependent_reason(text) is None


@pytest.mark.parametrize("text", [
    "{'b', 'a'}", "x={'b', 'a'};", "frozenset({'a', 'b'})", "{('a', 1), ('b', 2)}",
    "<function f at 0x7f12345678>", "<__main__.K object at 0x10ab34cd0>",
])
def test_run_dependent_text_is_flagged(text: str) -> None:
    assert run_dependent_reason(text) is not None


def test_the_same_input_gives_the_same_bytes_whatever_the_hash_seed(tmp_path: Path) -> None:
    write(tmp_path / "dags" / "det.py", dag_source("det").replace(
        "bucket='amzn-s3-demo-bucket'", "bucket=' '.join(sorted({'c', 'a', 'b'}))"))
    outputs = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"out{seed}"
        result = run_cli("convert", tmp_path / "dags", "-o", out, "--report-format", "none")
        assert result.returncode == EXIT_OK, result.stderr
        outputs.append((out / "det.yaml").read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


# --------------------------------------------------------------------------------------------
# Files and permissions


def test_new_files_follow_the_umask_and_rewrites_keep_the_mode(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.yaml", "a\n")
        assert stat.S_IMODE(os.stat(tmp_path / "new.yaml").st_mode) == 0o644
        os.chmod(tmp_path / "new.yaml", 0o600)
        write_atomic(tmp_path / "new.yaml", "b\n")
        assert stat.S_IMODE(os.stat(tmp_path / "new.yaml").st_mode) == 0o600
        os.chmod(tmp_path / "new.yaml", 0o664)
        write_atomic(tmp_path / "new.yaml", "c\n")
        assert stat.S_IMODE(os.stat(tmp_path / "new.yaml").st_mode) == 0o664
        os.umask(0o077)
        write_atomic(tmp_path / "private.yaml", "a\n")
        assert stat.S_IMODE(os.stat(tmp_path / "private.yaml").st_mode) == 0o600
    finally:
        os.umask(previous)


def test_a_250_character_dag_id_is_writable(tmp_path: Path) -> None:
    dag_id = "d" * 250
    write(tmp_path / "dags" / "long.py", dag_source(dag_id))
    result = run([tmp_path / "dags"], tmp_path / "out")
    assert result.results[0].dags[0].converted, result.results[0].dags[0].diagnostics
    assert (tmp_path / "out" / f"{dag_id}.yaml").is_file()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".dag-converter-999999999-0123abcd.tmp"  # no such process
    mine = out / f".dag-converter-{os.getpid()}-89abcdef.tmp"  # from an earlier run in this process
    alive = out / ".dag-converter-1-deadbeef.tmp"  # pid 1 is alive: another run may be writing it
    foreign = out / ".notes.tmp"
    for path in (stale, mine, alive, foreign):
        path.write_text("half", encoding="utf-8")
    LocalSink(out).prepare()
    assert sorted(p.name for p in out.iterdir()) == sorted([alive.name, foreign.name])
    old = os.stat(alive).st_mtime - 2 * 24 * 3600
    os.utime(alive, (old, old))
    remove_stale_temporaries(out)
    assert sorted(p.name for p in out.iterdir()) == [foreign.name]


# --------------------------------------------------------------------------------------------
# Exit status


@pytest.mark.parametrize("bad", [
    b"def (:\n    dag\n",  # cannot be parsed
    b"\xff\xfe not utf-8 dag\n",  # cannot be decoded
    b"dag\x00binary",  # binary
])
@pytest.mark.parametrize("mode", [[], ["--check"], ["--fail-on-change"]])
def test_a_file_that_fails_is_an_error_even_when_others_convert(tmp_path: Path, bad: bytes, mode: list[str]) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    write(dags / "good.py", dag_source("good"))
    (dags / "bad.py").write_bytes(bad)
    assert invoke("convert", dags, "-o", out).exit_code == EXIT_REFUSED  # writes good.yaml
    result = invoke("convert", dags, "-o", out, *mode)
    assert result.exit_code == EXIT_REFUSED, result.output
    alone = invoke("convert", dags / "bad.py", "-o", out, *mode)
    assert alone.exit_code in ((EXIT_USAGE,) if not mode else (EXIT_REFUSED,)), alone.output
