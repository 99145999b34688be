"""`convert --code-package --build-deps`: pip really runs (PyPI), for the workers' platform, and what it
installs goes into the zip, byte-identical from run to run; a pip failure refuses the DAG with pip's
last line, never a traceback."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from codepackage._support import CASES
from dag_converter.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main

DAG_ID = "feed_report"


def _index_reachable() -> str | None:
    """Why the index cannot be reached (None: it can): pip's PIP_INDEX_URL, else PyPI."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/")
    try:
        with urllib.request.urlopen(f"{index}/xmltodict/", timeout=15) as response:  # noqa: S310 - a fixed https URL
            response.read(1)
    except OSError as exc:
        return f"{index} is unreachable ({exc}): --build-deps needs the package index"
    return None


@pytest.fixture(scope="module")
def index() -> None:
    reason = _index_reachable()
    if reason is not None:
        pytest.skip(reason)


def convert(folder: Path, out: Path, *flags: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(out), "--code-package", *flags])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.output


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    """The fixture DAG folder without its requirements file (which stays outside, as a user's would)."""
    folder = tmp_path / "dags"
    shutil.copytree(CASES / "build_deps", folder, ignore=shutil.ignore_patterns("requirements.txt"))
    return folder


def test_build_deps_vendors_the_pinned_wheel_into_a_byte_identical_zip(index: None, dags: Path, tmp_path: Path) -> None:
    pins = str(CASES / "build_deps" / "requirements.txt")
    code, output = convert(dags, tmp_path / "a", "--build-deps", "--requirements", pins)
    assert code == EXIT_OK, output
    data = (tmp_path / "a" / f"{DAG_ID}.code.zip").read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names == sorted(names)
    assert {"feeds/__init__.py", "feeds/parse.py", "xmltodict.py", "xmltodict-0.14.2.dist-info/METADATA",
            "xmltodict-0.14.2.dist-info/RECORD", "xmltodict-0.14.2.dist-info/WHEEL"} <= set(names)
    assert not [n for n in names if n.startswith("bin/") or "__pycache__" in n or n.endswith(".pyc")]
    assert "Version: 0.14.2" in archive.read("xmltodict-0.14.2.dist-info/METADATA").decode()
    record = archive.read("xmltodict-0.14.2.dist-info/RECORD").decode()
    assert {row.split(",")[0] for row in record.splitlines()} <= set(names)  # only the shipped files
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    report = json.loads((tmp_path / "a" / "conversion-report.json").read_text())
    package = next(d["code_package"] for f in report["files"] for d in f["dags"] if d["dag_id"] == DAG_ID)
    assert "xmltodict==0.14.2  # xmltodict (" in package["requirements"]
    assert "# Installed in the package by --build-deps" in package["requirements"]
    assert package["pip_command"] == ""  # nothing left to vendor: the reports show no pip command
    assert "Vendor the requirements" not in (tmp_path / "a" / "conversion-report.md").read_text()
    reasons = {f["path"]: f["reason"] for f in package["files"]}
    assert reasons["xmltodict.py"] == "installed by --build-deps: xmltodict 0.14.2"
    # the package's code runs from the extracted zip alone (no site-packages): it imports the vendored wheel
    extracted = tmp_path / "extracted"
    archive.extractall(extracted)
    script = ("import sys; sys.path.append(sys.argv[1]); import feeds.parse, xmltodict; "
              "print(feeds.parse.count_items('<feed><item>1</item><item>2</item></feed>'), xmltodict.__file__)")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", script, str(extracted)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", str(extracted / "xmltodict.py")]

    again, output = convert(dags, tmp_path / "b", "--build-deps", "--requirements", pins)
    assert again == EXIT_OK, output
    assert (tmp_path / "b" / f"{DAG_ID}.code.zip").read_bytes() == data
    # a rerun into the same output: the manifest knows the settings, nothing is written again
    rerun, output = convert(dags, tmp_path / "a", "--build-deps", "--requirements", pins)
    assert rerun == EXIT_OK and "3 sources unchanged since the last run; 0 YAML files written" in output, output
    # without --build-deps the settings differ: converted again, the package without the wheel
    plain, output = convert(dags, tmp_path / "a", "--requirements", pins)
    assert plain == EXIT_OK, output
    assert "xmltodict.py" not in zipfile.ZipFile(tmp_path / "a" / f"{DAG_ID}.code.zip").namelist()


def test_a_version_pip_cannot_find_refuses_the_dag_with_pip_s_last_line(index: None, dags: Path,
                                                                         tmp_path: Path) -> None:
    pins = tmp_path / "pins.txt"
    pins.write_text("xmltodict==0.0.999\n", encoding="utf-8")
    code, output = convert(dags, tmp_path / "out", "--build-deps", "--requirements", str(pins))
    assert code == EXIT_REFUSED, output
    assert "Traceback" not in output
    assert "DC348 [error] --build-deps could not install xmltodict==0.0.999 into the code package: ERROR:" in output
    assert "xmltodict==0.0.999" in output.split("DC348", 1)[1].splitlines()[0].split(": ERROR:", 1)[1]
    assert not (tmp_path / "out" / f"{DAG_ID}.code.zip").exists()
    assert not (tmp_path / "out" / f"{DAG_ID}.yaml").exists()


def test_build_deps_without_a_code_package_is_a_usage_error(dags: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(dags), "-o", str(tmp_path / "out"), "--build-deps"])
    assert result.exit_code == EXIT_USAGE
    assert "--build-deps goes with --code-package" in result.output


def test_build_deps_with_nothing_to_install_runs_no_pip(dags: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from dag_converter.codepackage import vendor

    def no_pip(*args: object) -> object:
        raise AssertionError("pip must not run for a package without requirements")

    monkeypatch.setattr(vendor, "_install", no_pip)
    (dags / "feeds" / "parse.py").write_text("def count_items(text: str) -> int:\n    return text.count('<item>')\n",
                                             encoding="utf-8")
    code, output = convert(dags, tmp_path / "out", "--build-deps", "--jobs", "1")
    assert code == EXIT_OK, output
    assert zipfile.ZipFile(tmp_path / "out" / f"{DAG_ID}.code.zip").namelist() == ["feeds/__init__.py",
                                                                                  "feeds/parse.py"]


def test_what_pip_installed_is_read_back_without_scripts_caches_or_the_service_s_own(tmp_path: Path) -> None:
    from dag_converter.codepackage._environment import shipped
    from dag_converter.codepackage.vendor import _read_target

    target = tmp_path / "target"
    files = {
        "tool/__init__.py": "X = 1\n",
        "tool/__pycache__/__init__.cpython-312.pyc": "compiled",
        "tool-1.0.dist-info/METADATA": "Name: tool\nVersion: 1.0\n",
        "tool-1.0.dist-info/RECORD": "tool/__init__.py,sha256=a,6\n../../bin/tool,sha256=b,9\n"
                                     "tool/__pycache__/__init__.cpython-312.pyc,,\ntool-1.0.dist-info/RECORD,,\n"
                                     "tool-1.0.dist-info/METADATA,sha256=c,25\n",
        "bin/tool": "#!/somewhere/python\n",
        "requests/__init__.py": "# a dependency the service pre-installs\n",
        "requests-2.32.0.dist-info/RECORD": "requests/__init__.py,sha256=d,40\n",
    }
    for name, text in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")
    result = _read_target(target, shipped())
    assert result.error is None and result.left_out == ("requests",)
    assert [(e.path, e.reason) for e in result.entries] == [
        ("tool-1.0.dist-info/METADATA", "installed by --build-deps: tool 1.0"),
        ("tool-1.0.dist-info/RECORD", "installed by --build-deps: tool 1.0"),
        ("tool/__init__.py", "installed by --build-deps: tool 1.0"),
    ]
    record = dict((e.path, e.data) for e in result.entries)["tool-1.0.dist-info/RECORD"].decode()
    assert record == ("tool-1.0.dist-info/METADATA,sha256=c,25\ntool-1.0.dist-info/RECORD,,\n"
                      "tool/__init__.py,sha256=a,6\n")
