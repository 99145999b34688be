"""Manifest.dumps builds its text from cached per-source fragments: it must always be the current
document, one line per source, and the same bytes for the same content (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

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
