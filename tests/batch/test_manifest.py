"""Manifest.dumps builds its text from cached per-source fragments: it must always be the current
document, one line per source, and the same bytes for the same content (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dag_converter import __version__
from dag_converter.batch.manifest import MANIFEST_VERSION, Manifest
from dag_converter.pipeline import Options, convert_source

ROOT = Path(__file__).resolve().parents[2]


def _reference(manifest: Manifest) -> str:
    document = {
        "manifest_version": MANIFEST_VERSION,
        "tool": {"name": "dag-converter", "version": __version__},
        "settings": manifest.settings,
        "sources": {
            source: {"fingerprint": e.fingerprint, "outputs": dict(e.outputs), "result": e.result}
            for source, e in sorted(manifest.sources.items())
        },
    }
    return document  # type: ignore[return-value]


def _check(manifest: Manifest) -> None:
    text = manifest.dumps()
    assert json.loads(text) == _reference(manifest)
    assert sum(1 for line in text.splitlines() if line.startswith('  "') and '{"fingerprint":' in line) == len(manifest.sources)
    fresh = Manifest(manifest.settings)
    fresh.sources.update(manifest.sources)
    assert fresh.dumps() == text  # cached fragments give the bytes a fresh encoding gives


def test_dumps_matches_json_dumps_as_entries_change() -> None:
    manifest = Manifest('settings "ü"')
    _check(manifest)
    files = sorted((ROOT / "fixtures" / "dags").glob("*.py")) + sorted((ROOT / "tests" / "verify_cases").glob("*.py"))
    assert files
    for n, path in enumerate(files):
        relative = path.relative_to(ROOT).as_posix()
        manifest.record(relative, f"size-{n}", convert_source(path.read_bytes(), relative, path.name, Options()))
        if n % 7 == 0:
            _check(manifest)
    manifest.record(files[0].relative_to(ROOT).as_posix(), "changed", convert_source(b"x = 1\n", "a.py", "a.py", Options()))
    manifest.forget(files[1].relative_to(ROOT).as_posix())
    _check(manifest)


def _with_reads(tmp_path: Path) -> tuple[Manifest, str]:
    root = tmp_path / "dags"
    (root / "common").mkdir(parents=True)
    (root / "common" / "settings.py").write_text('BUCKET = "b"\n', encoding="utf-8")
    source = ('from datetime import datetime\nfrom airflow import DAG\n'
              'from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator\n'
              'from common.settings import BUCKET\n'
              'with DAG("d", start_date=datetime(2025, 1, 1), schedule=None):\n'
              '    S3CreateBucketOperator(task_id="t", bucket_name=BUCKET)\n')
    result = convert_source(source.encode(), "dags/d.py", "d.py", Options(), root=root)
    manifest = Manifest("s")
    manifest.record("dags/d.py", "f", result, "d.py")
    return manifest, manifest.dumps()


def test_reads_round_trip_with_their_versions(tmp_path: Path) -> None:
    from dag_converter.batch.manifest import load_manifest

    manifest, text = _with_reads(tmp_path)
    entry = manifest.sources["dags/d.py"]
    assert {r.path: r.version for r in entry.reads}["common/settings.py"].startswith("sha256:")
    assert {r.path: r.version for r in entry.reads}["common.py"] == "missing"
    loaded = load_manifest(text, "s")
    assert loaded.sources["dags/d.py"].reads == entry.reads and loaded.dumps() == text
    assert json.loads(text)["sources"]["dags/d.py"]["reads"] == {r.path: r.version for r in entry.reads}


@pytest.mark.parametrize("reads", [["common/settings.py"], {"common/settings.py": ""}, {"x": 1}, "x"])
def test_an_entry_with_damaged_reads_is_dropped(tmp_path: Path, reads: object) -> None:
    from dag_converter.batch.manifest import load_manifest

    _, text = _with_reads(tmp_path)
    document = json.loads(text)
    document["sources"]["dags/d.py"]["reads"] = reads
    assert load_manifest(json.dumps(document), "s").sources == {}  # converted again, never a crash


def test_an_older_manifest_version_is_not_used(tmp_path: Path) -> None:
    from dag_converter.batch.manifest import load_manifest

    _, text = _with_reads(tmp_path)
    document = json.loads(text)
    document["manifest_version"] = MANIFEST_VERSION - 1
    assert load_manifest(json.dumps(document), "s").sources == {}


def test_reads_current_asks_every_recorded_path(tmp_path: Path) -> None:
    from dag_converter.batch.manifest import reads_current

    manifest, _ = _with_reads(tmp_path)
    entry = manifest.sources["dags/d.py"]
    versions = {r.path: r.version for r in entry.reads}
    assert reads_current(entry, versions.__getitem__)
    for path in versions:
        assert not reads_current(entry, lambda p, changed=path: "other" if p == changed else versions[p])
