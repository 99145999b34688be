"""Local runs through the runner: --jobs gives the same bytes, and a rerun writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dag_converter.cli import main
from dag_converter.batch.manifest import MANIFEST_NAME

DAG = '''from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator

with DAG("local_{n}", start_date=datetime(2025, 1, 1), schedule=None):
    S3ListOperator(task_id="list", bucket="b{n}")
'''


def _tree(root: Path, count: int) -> Path:
    dags = root / "dags"
    for n in range(count):
        folder = dags / f"team{n % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"dag_{n}.py").write_text(DAG.format(n=n), encoding="utf-8")
    (dags / "refused.py").write_text("from airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
                                     "with DAG('refused', schedule=None):\n    BashOperator(task_id='t', bash_command='x')\n",
                                     encoding="utf-8")
    return dags


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_jobs_give_the_same_bytes(tmp_path: Path) -> None:
    dags = _tree(tmp_path, 12)
    for jobs in ("1", "2"):
        result = CliRunner().invoke(main, ["convert", str(dags), "-o", str(tmp_path / f"out{jobs}"), "-j", jobs])
        assert result.exit_code == 1, result.output  # refused.py
    assert _snapshot(tmp_path / "out1") == _snapshot(tmp_path / "out2")


def test_rerun_writes_nothing_and_force_rewrites(tmp_path: Path) -> None:
    dags = _tree(tmp_path, 6)
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["convert", str(dags), "-o", str(out), "-j", "2"])
    assert first.exit_code == 1, first.output
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert len(manifest["sources"]) == 7
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    rerun = CliRunner().invoke(main, ["convert", str(dags), "-o", str(out), "-j", "2"])
    assert rerun.exit_code == 1, rerun.output
    assert "7 sources unchanged" in rerun.output
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before

    (out / "local_3.yaml").unlink()  # a deleted YAML is redone even though its source is unchanged
    third = CliRunner().invoke(main, ["convert", str(dags), "-o", str(out)])
    assert "6 sources unchanged since the last run; 1 YAML files written" in third.output
    assert (out / "local_3.yaml").is_file()

    forced = CliRunner().invoke(main, ["convert", str(dags), "-o", str(out), "--force"])
    assert "0 sources unchanged since the last run; 6 YAML files written" in forced.output


def test_fail_on_change_updates_an_existing_manifest_and_keeps_the_other_entries(tmp_path: Path) -> None:
    """The pre-commit hook (--fail-on-change) used to write YAML past the manifest: a full run's
    manifest kept the old fingerprint and checksum of the file the hook had converted. Now it
    goes through the same driver: the hook's file gets a fresh entry, the rest stay."""
    dags = _tree(tmp_path, 3)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["convert", str(dags), "-o", str(out)]).exit_code == 1  # refused.py
    before = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))["sources"]
    changed = dags / "team1" / "dag_1.py"
    changed.write_text(DAG.format(n=1).replace('bucket="b1"', 'bucket="other"'), encoding="utf-8")

    hook = CliRunner().invoke(main, ["convert", "--fail-on-change", "--report-format", "none", str(changed),
                                     "-o", str(out)])
    assert hook.exit_code == 1, hook.output
    assert f"{out / 'local_1.yaml'}: updated from {changed}" in hook.output
    after = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))["sources"]
    assert after[str(changed)]["outputs"] != before[str(changed)]["outputs"]
    assert after[str(changed)]["fingerprint"] != before[str(changed)]["fingerprint"]
    assert {k: v for k, v in after.items() if k != str(changed)} == \
        {k: v for k, v in before.items() if k != str(changed)}


def test_fail_on_change_never_starts_a_manifest(tmp_path: Path) -> None:
    """In a repository the hook's YAML folder must not gain an untracked manifest."""
    dags = _tree(tmp_path, 1)
    out = tmp_path / "out"
    hook = CliRunner().invoke(main, ["convert", "--fail-on-change", str(dags / "team0" / "dag_0.py"), "-o", str(out)])
    assert hook.exit_code == 1, hook.output
    assert (out / "local_0.yaml").is_file()
    assert not (out / MANIFEST_NAME).exists()


def test_a_run_over_some_files_keeps_the_manifest_entries_of_the_others(tmp_path: Path) -> None:
    dags = _tree(tmp_path, 4)
    out = tmp_path / "out"
    CliRunner().invoke(main, ["convert", str(dags), "-o", str(out)])
    CliRunner().invoke(main, ["convert", str(dags / "team0" / "dag_0.py"), "-o", str(out)])
    rerun = CliRunner().invoke(main, ["convert", str(dags), "-o", str(out)])
    # dag_0.py is redone: named alone, its DAG folder was team0/, so its fingerprint (and its
    # YAML's source path) differ from the folder run's; the other four were kept and are skipped.
    assert "4 sources unchanged since the last run" in rerun.output


def test_a_source_deleted_from_a_folder_stays_on_record_until_pruned(tmp_path: Path) -> None:
    dags = _tree(tmp_path, 4)
    out = tmp_path / "out"
    CliRunner().invoke(main, ["convert", str(dags), "-o", str(out)])
    (dags / "team0" / "dag_3.py").unlink()
    kept = CliRunner().invoke(main, ["convert", str(dags), "-o", str(out)])
    # Its YAML is an orphan: noted, left in place, and kept on record so --prune can find it.
    assert f"note: {out / 'local_3.yaml'} was written from {dags / 'team0' / 'dag_3.py'}" in kept.output
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert str(dags / "team0" / "dag_3.py") not in manifest["sources"]
    assert manifest["orphans"]["local_3.yaml"]["source"] == str(dags / "team0" / "dag_3.py")
    pruned = CliRunner().invoke(main, ["convert", str(dags), "-o", str(out), "--prune"])
    assert pruned.exit_code == 1, pruned.output  # refused.py is still refused
    assert f"removed {out / 'local_3.yaml'}" in pruned.output
    assert not (out / "local_3.yaml").exists()
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert str(dags / "team0" / "dag_3.py") not in manifest["sources"] and "orphans" not in manifest
    assert len(manifest["sources"]) == 4
