"""The Amazon provider's own system-test example DAGs, a real corpus for several tests.

Does what shared/corpus/fetch-provider-examples.sh does, so a fresh machine needs nothing beside
the repository: download the provider's source archive from PyPI once and keep its tests/ folder
in a cache (never committed). Returns None, and the tests skip, when PyPI cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

CORPUS_VERSION = "9.30.0"


def corpus_dir(version: str = CORPUS_VERSION) -> Path | None:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    base = cache / "dag-converter-corpus" / f"amazon-{version}"
    folder = base / "tests" / "system" / "amazon" / "aws"
    if folder.is_dir():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                 f"apache-airflow-providers-amazon=={version}", "-d", tmp],
                check=True, capture_output=True, timeout=300,
            )
            archive = next(Path(tmp).glob("apache_airflow_providers_amazon-*.tar.gz"))
            with tarfile.open(archive) as tar:
                members = [m for m in tar.getmembers() if "/tests/" in f"/{m.name}" and m.isfile()]
                tar.extractall(tmp, members=members)  # noqa: S202 - PyPI sdist of a pinned version
        except (OSError, subprocess.SubprocessError, StopIteration, tarfile.TarError):
            return None
        source = Path(tmp) / f"apache_airflow_providers_amazon-{version}" / "tests"
        if not source.is_dir():
            return None
        base.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, base / "tests", dirs_exist_ok=True)
    return folder if folder.is_dir() else None
