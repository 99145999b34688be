"""Output safety: nothing is written outside the output folder, no DAG silently overwrites
another, writes are atomic, and a failing disk costs one line and no earlier file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ._support import ROOT, dag_source, run_cli

UNSAFE_IDS = [
    "../escape", "../../etc/evil", "..", ".", "a/b", "/tmp/absolute_escape", "sub/../../up",
    "with space", "semi;colon", "back\\slash", "ünïcode", "tab\there", "colon:id", "nul\x00byte", "new\nline",
    "*", "~", "$HOME",
]


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def test_unsafe_dag_ids_never_write_outside_the_output_folder(tmp_path: Path) -> None:
    """Every id outside [A-Za-z0-9_.-] (or '.'/'..') is refused with DC111 and writes nothing."""
    dags, out = tmp_path / "work" / "dags", tmp_path / "work" / "out"
    dags.mkdir(parents=True)
    for index, dag_id in enumerate(UNSAFE_IDS):
        (dags / f"dag_{index:02}.py").write_text(dag_source(dag_id), encoding="utf-8")
    (dags / "fine.py").write_text(dag_source("fine"), encoding="utf-8")
    before = _tree(tmp_path)

    result = run_cli("convert", dags, "--output", out)

    assert result.returncode == 1, result.stderr
    assert _tree(tmp_path) - before == {"work/out", "work/out/fine.yaml", "work/out/conversion-report.json",
                                        "work/out/conversion-report.md", "work/out/conversion-manifest.json"}
    assert not Path("/tmp/absolute_escape.yaml").exists()
    report = json.loads((out / "conversion-report.json").read_text(encoding="utf-8"))
    refused = {d["dag_id"]: [x["code"] for x in d["diagnostics"]] for f in report["files"] for d in f["dags"]
               if d["status"] == "refused"}
    assert sorted(refused) == sorted(UNSAFE_IDS)
    assert all("DC111" in found for found in refused.values()), refused


def test_duplicate_dag_ids_refuse_both_and_name_each_other(tmp_path: Path) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    (dags / "team_a").mkdir(parents=True)
    (dags / "team_b").mkdir()
    first, second = dags / "team_a" / "etl.py", dags / "team_b" / "etl.py"
    first.write_text(dag_source("etl", bucket="a"), encoding="utf-8")
    second.write_text(dag_source("etl", bucket="b"), encoding="utf-8")
    out.mkdir()
    (out / "etl.yaml").write_text("# an earlier run\n", encoding="utf-8")

    result = run_cli("convert", dags, "--output", out)

    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if " DC110 " in line]
    assert lines == [f"{first}:6:6: DC110 [error] DAG id 'etl' is also defined in {second}:6",
                     f"{second}:6:6: DC110 [error] DAG id 'etl' is also defined in {first}:6"]
    assert (out / "etl.yaml").read_text(encoding="utf-8") == "# an earlier run\n"


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    dags, out = tmp_path / "dags", tmp_path / "out"
    dags.mkdir()
    for name in ("a", "b", "c"):
        (dags / f"{name}.py").write_text(dag_source(name), encoding="utf-8")

    first = run_cli("convert", dags, "--output", out)
    (dags / "b.py").write_text(dag_source("b", bucket="changed"), encoding="utf-8")
    second = run_cli("convert", dags, "--output", out)

    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.yaml", "b.yaml", "c.yaml", "conversion-manifest.json",
                                                     "conversion-report.json", "conversion-report.md"]
    assert "changed" in (out / "b.yaml").read_text(encoding="utf-8")


def test_output_path_through_a_file_fails_with_one_line(tmp_path: Path) -> None:
    """--output below a regular file (ENOTDIR, also as root): one line per DAG, manifest and report."""
    dag = tmp_path / "etl.py"
    dag.write_text(dag_source("etl"), encoding="utf-8")
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")

    result = run_cli("convert", dag, "--output", blocker / "out")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "[error]" in line or line.startswith("error:")]
    assert errors == [
        f"{dag}:6:6: DC112 [error] cannot write {blocker / 'out' / 'etl.yaml'}: Not a directory",
        f"error: cannot write {blocker / 'out' / 'conversion-manifest.json'}: Not a directory",
        f"error: cannot write the report {blocker / 'out' / 'conversion-report.json'}: Not a directory",
    ]
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_one_failed_write_keeps_the_others(tmp_path: Path) -> None:
    """A folder where b.yaml should go: b is refused with DC112, a and c are written."""
    dags, out = tmp_path / "dags", tmp_path / "out"
    dags.mkdir()
    for name in ("a", "b", "c"):
        (dags / f"{name}.py").write_text(dag_source(name), encoding="utf-8")
    (out / "b.yaml").mkdir(parents=True)

    result = run_cli("convert", dags, "--output", out)

    assert result.returncode == 1, result.stderr
    assert [line.split(": DC112")[0] for line in result.stderr.splitlines() if "DC112" in line] == \
        [f"{dags / 'b.py'}:6:6"]
    assert sorted(p.name for p in out.iterdir()) == ["a.yaml", "b.yaml", "c.yaml", "conversion-manifest.json",
                                                     "conversion-report.json", "conversion-report.md"]
    assert (out / "b.yaml").is_dir() and not list((out / "b.yaml").iterdir())


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs root and mount namespaces (unshare -m)")
def test_full_disk_fails_with_one_line_and_keeps_earlier_files(tmp_path: Path) -> None:
    """A real full disk: a 64 KB tmpfs, mounted in a private mount namespace and filled up."""
    dag = tmp_path / "etl.py"
    dag.write_text(dag_source("etl", bucket="new-bucket"), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    script = f"""
        set -e
        mount -t tmpfs -o size=64k tmpfs {out}
        printf 'earlier: etl\\n' > {out}/etl.yaml
        printf 'earlier: report\\n' > {out}/conversion-report.json
        dd if=/dev/zero of={out}/filler bs=1k 2>/dev/null || true
        set +e
        PYTHONPATH={ROOT} NO_COLOR=1 {sys.executable} -m dag_converter convert {dag} --output {out} 2> {tmp_path}/stderr
        echo $? > {tmp_path}/status
        rm {out}/filler
        ls -A {out} > {tmp_path}/listing
        cat {out}/etl.yaml {out}/conversion-report.json > {tmp_path}/kept
    """
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=120)

    stderr = (tmp_path / "stderr").read_text(encoding="utf-8")
    assert (tmp_path / "status").read_text().strip() == "2", stderr
    assert "Traceback" not in stderr
    assert [line for line in stderr.splitlines() if "[error]" in line or line.startswith("error:")] == [
        f"{dag}:6:6: DC112 [error] cannot write {out / 'etl.yaml'}: No space left on device",
        f"error: cannot write {out / 'conversion-manifest.json'}: No space left on device",
        f"error: cannot write the report {out / 'conversion-report.json'}: No space left on device",
    ]
    assert (tmp_path / "kept").read_text(encoding="utf-8") == "earlier: etl\nearlier: report\n"
    assert (tmp_path / "listing").read_text(encoding="utf-8").split() == ["conversion-report.json", "etl.yaml"]
