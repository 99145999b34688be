"""folder_reads: which modules of the DAG folder a file reads (the dependants of a helper)."""

from __future__ import annotations

from pathlib import Path

from dag_converter.folder_reads import folder_reads, imported_names


def test_imported_names_cover_every_import_form() -> None:
    text = ("import a.b as c, d\nfrom e import (f,\n    g as h)\nfrom . import i\nfrom ..j import k\n"
            "from os import path\nfrom l import *  # comment\n")
    assert imported_names(text, "pkg.sub") == ["a.b", "d", "e", "e.f", "e.g", "pkg.sub", "pkg.sub.i", "pkg.j",
                                               "pkg.j.k", "os", "os.path", "l"]
    assert "x" not in imported_names("from .... import x\n", "pkg")  # above the folder: nothing


def test_folder_reads_follow_modules_transitively_and_skip_installed_names(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "common" / "settings.py").write_text("from .paths import ROOT\n", encoding="utf-8")
    (tmp_path / "common" / "paths.py").write_text("ROOT = '/x'\n", encoding="utf-8")
    (tmp_path / "json.py").write_text("SHADOWED = 1\n", encoding="utf-8")  # the stdlib wins, as in Airflow
    (tmp_path / "unrelated.py").write_text("X = 1\n", encoding="utf-8")
    dag = "import json\nfrom common.settings import ROOT\n"
    assert folder_reads(dag, "etl.py", tmp_path) == ("common/__init__.py", "common/paths.py", "common/settings.py")
    (tmp_path / "loop.py").write_text("import loop2\n", encoding="utf-8")
    (tmp_path / "loop2.py").write_text("import loop\n", encoding="utf-8")
    assert folder_reads("import loop\n", "etl.py", tmp_path) == ("loop.py", "loop2.py")
