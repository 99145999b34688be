"""`convert --plugins plugins.zip`: modules a DAG imports from MWAA's plugins archive are read
statically like the DAG folder's (behind it) and shipped in the code package; hostile archives stop
the run with one line."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import textwrap
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from dag_converter.analyzer import LayeredFolder, LocalFolder, PluginsArchive, PluginsUnusable
from dag_converter.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main

from codepackage._support import PLUGIN_HELPERS as HELPERS, PLUGIN_OPERATORS as OPERATORS

DAG = textwrap.dedent('''\
    from datetime import datetime

    from airflow import DAG
    from airflow.providers.standard.operators.python import PythonOperator

    from my_company.helpers import transform
    from my_company.operators import GreetOperator
    from plugin_text import shout


    def loud():
        return shout("done")


    with DAG("etl_plugins", start_date=datetime(2030, 1, 1), schedule="@daily", catchup=False):
        t1 = PythonOperator(task_id="transform", python_callable=transform)
        t2 = GreetOperator(task_id="greet", name="world")
        t3 = PythonOperator(task_id="loud", python_callable=loud)
        t1 >> t2 >> t3
    ''')
TEXT = "def shout(text):\n    return text.upper()\n"
PLUGINS = {"my_company/__init__.py": "", "my_company/helpers.py": HELPERS, "my_company/operators.py": OPERATORS,
           "plugin_text.py": TEXT, "my_plugin.py": "# an AirflowPlugin subclass would live here\n"}
SHIPPED = ["etl_plugins_tasks.py", "my_company/__init__.py", "my_company/helpers.py", "my_company/operators.py",
           "plugin_text.py"]


def make_zip(path: Path, members: dict[str, str | bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "etl.py").write_text(DAG, encoding="utf-8")
    make_zip(tmp_path / "plugins.zip", PLUGINS)
    return tmp_path


def convert(project: Path, *flags: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["convert", str(project / "dags"), "-o", str(project / "out"), "--code-package",
                                       *flags])
    return result.exit_code, result.output


def package(project: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO((project / "out" / "etl_plugins.code.zip").read_bytes()))


def manifest_reads(project: Path) -> dict[str, str]:
    manifest = json.loads((project / "out" / "conversion-manifest.json").read_text())
    return next(iter(manifest["sources"].values()))["reads"]


def test_plugin_modules_are_resolved_and_shipped(project: Path) -> None:
    code, output = convert(project, "--plugins", str(project / "plugins.zip"))
    assert code == EXIT_OK, output
    with package(project) as archive:
        assert sorted(archive.namelist()) == SHIPPED  # my_plugin.py, imported by nobody, stays out
        for name in SHIPPED[1:]:
            assert archive.read(name).decode() == PLUGINS[name]
    yaml_text = (project / "out" / "etl_plugins.yaml").read_text()
    assert "python_callable: my_company.helpers.transform" in yaml_text
    assert "operator: my_company.operators.GreetOperator" in yaml_text
    report = json.loads((project / "out" / "conversion-report.json").read_text())
    files = {f["path"]: f["reason"] for f in report["files"][0]["dags"][0]["code_package"]["files"]}
    where = f"(from the plugins archive {project / 'plugins.zip'})"
    assert all(files[name].endswith(where) for name in SHIPPED[1:]), files
    assert where not in files["etl_plugins_tasks.py"]
    reads = manifest_reads(project)
    assert reads["my_company/helpers.py"].startswith("plugins:sha256:")
    assert reads["plugin_text.py"].startswith("plugins:sha256:")


def test_verify_loads_the_python_dag_with_the_plugins_on_its_path(project: Path) -> None:
    """--verify: Airflow imports the DAG file with the plugins folder behind the DAG folder (as on
    MWAA) and the YAML DAG from its package only; they build the same DAG."""
    pytest.importorskip("airflow")
    pytest.importorskip("dagfactory")
    code, output = convert(project, "--plugins", str(project / "plugins.zip"), "--verify")
    assert code == EXIT_OK, output
    assert "DC90" not in output
    assert (project / "out" / "etl_plugins.yaml").is_file()


def test_data_and_template_files_are_not_read_from_the_plugins(tmp_path: Path) -> None:
    """open() and Jinja's loader look in the DAG folder, not on sys.path: a data or template file
    that only the plugins archive holds is missing (refused), never read from the archive."""
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "etl.py").write_text(textwrap.dedent('''\
        import json
        import os
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.amazon.aws.operators.athena import AthenaOperator

        CFG = json.load(open(os.path.join(os.path.dirname(__file__), "cfg.json")))

        with DAG("files_only_in_plugins", start_date=datetime(2030, 1, 1), schedule=None):
            AthenaOperator(task_id="q", query="sql/q.sql", database=CFG["db"], output_location="s3://x/")
        '''), encoding="utf-8")
    make_zip(tmp_path / "plugins.zip", {"cfg.json": '{"db": "from_plugins"}', "sql/q.sql": "select 1"})
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "dags"), "-o", str(tmp_path / "out"),
                                       "--plugins", str(tmp_path / "plugins.zip")])
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "'cfg.json' does not exist in the DAG folder" in result.output
    assert "template file: 'sql/q.sql' does not exist in the DAG folder" in result.output
    assert not (tmp_path / "out" / "files_only_in_plugins.yaml").exists()


def test_without_plugins_the_imports_are_refused_as_before(project: Path) -> None:
    code, output = convert(project)
    assert code == EXIT_REFUSED
    assert "DC342 [error] my_company.helpers is neither a module of the DAG folder" in output
    assert "DC342 [error] my_company.operators is neither a module of the DAG folder" in output
    assert not (project / "out" / "etl_plugins.code.zip").exists()


def test_a_module_in_both_places_ships_when_identical_and_refuses_otherwise(project: Path) -> None:
    """Which copy Airflow imports depends on its sys.path order (DAG folder first on Airflow 2,
    plugins first on Airflow 3): the same bytes are no question; other bytes refuse the DAG."""
    (project / "dags" / "plugin_text.py").write_text(TEXT, encoding="utf-8")
    code, output = convert(project, "--plugins", str(project / "plugins.zip"))
    assert code == EXIT_OK, output
    with package(project) as archive:
        assert archive.read("plugin_text.py").decode() == TEXT
    report = json.loads((project / "out" / "conversion-report.json").read_text())
    files = {f["path"]: f["reason"] for f in report["files"][0]["dags"][0]["code_package"]["files"]}
    assert "plugins archive" not in files["plugin_text.py"]

    (project / "dags" / "plugin_text.py").write_text("def shout(text):\n    return text + '!'\n", encoding="utf-8")
    code, output = convert(project, "--plugins", str(project / "plugins.zip"))
    assert code == EXIT_REFUSED, output
    assert ("plugin_text.py cannot go into the code package: it is both in the DAG folder and in the plugins "
            "archive, with other code") in output


def test_a_constant_from_a_module_in_both_places_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "settings.py").write_text('BUCKET = "dags-copy"\n', encoding="utf-8")
    (tmp_path / "dags" / "etl.py").write_text(textwrap.dedent('''\
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator

        from settings import BUCKET

        with DAG("both_places", start_date=datetime(2030, 1, 1), schedule=None):
            S3CreateBucketOperator(task_id="make", bucket_name=BUCKET)
        '''), encoding="utf-8")
    make_zip(tmp_path / "plugins.zip", {"settings.py": 'BUCKET = "plugins-copy"\n'})
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "dags"), "-o", str(tmp_path / "out"),
                                       "--plugins", str(tmp_path / "plugins.zip")])
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "module settings is both in the DAG folder and in the plugins archive, with other code" in result.output
    make_zip(tmp_path / "plugins.zip", {"settings.py": 'BUCKET = "dags-copy"\n'})  # the same bytes: no question
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "dags"), "-o", str(tmp_path / "out"),
                                       "--plugins", str(tmp_path / "plugins.zip")])
    assert result.exit_code == EXIT_OK, result.output
    assert "bucket_name: dags-copy" in (tmp_path / "out" / "both_places.yaml").read_text()


def test_a_changed_plugin_module_reconverts_its_dependants_only(project: Path) -> None:
    plugins = str(project / "plugins.zip")
    assert convert(project, "--plugins", plugins)[0] == EXIT_OK
    code, output = convert(project, "--plugins", plugins)
    assert code == EXIT_OK and "1 sources unchanged" in output
    make_zip(project / "plugins.zip", {**PLUGINS, "unrelated.py": "X = 1\n"})  # nothing the DAG reads changed
    code, output = convert(project, "--plugins", plugins)
    assert code == EXIT_OK and "1 sources unchanged" in output
    changed = "def transform():\n    return 43\n"
    make_zip(project / "plugins.zip", {**PLUGINS, "my_company/helpers.py": changed})
    code, output = convert(project, "--plugins", plugins)
    assert code == EXIT_OK and "0 sources unchanged" in output
    with package(project) as archive:
        assert archive.read("my_company/helpers.py").decode() == changed
    code, output = convert(project)  # the archive gone: what was read from it is missing now
    assert code == EXIT_REFUSED and "DC342" in output


def test_plugins_from_the_config(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.dag-converter]\nplugins = "plugins.zip"\ncode-package = true\n')
    result = CliRunner().invoke(main, ["convert", str(project / "dags"), "-o", str(project / "out"),
                                       "--config", str(project / "pyproject.toml")])
    assert result.exit_code == EXIT_OK, result.output
    with package(project) as archive:
        assert "my_company/helpers.py" in archive.namelist()


def test_a_broken_plugin_module_refuses_the_dag_at_its_place_in_the_archive(project: Path) -> None:
    make_zip(project / "plugins.zip", {**PLUGINS, "my_company/helpers.py": "def transform(:\n"})
    code, output = convert(project, "--plugins", str(project / "plugins.zip"))
    assert code == EXIT_REFUSED
    assert f"module my_company.helpers of the plugins archive {project / 'plugins.zip'}: syntax error at line 1" \
        in output


def _many(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(10_001):
            archive.writestr(f"m{n}.py", "")
    return path


def _link(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("my_company/helpers.py")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    return path


HOSTILE = {
    "traversal": (lambda p: make_zip(p, {"../my_company/helpers.py": HELPERS}), "names a path outside the archive"),
    "absolute": (lambda p: make_zip(p, {"/tmp/helpers.py": HELPERS}), "names a path outside the archive"),
    "ratio": (lambda p: make_zip(p, {"big.py": b"\0" * (4 * 1024 * 1024)}), "a zip bomb"),
    "entries": (_many, "10001 entries, over the limit of 10000"),
    "corrupt": (lambda p: p.write_bytes(b"PK\x03\x04" + b"\xff" * 200) and p, "not a readable zip archive"),
    "symlink": (_link, "is a symbolic link"),
    "missing": (lambda p: p, "cannot read"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_archive_stops_the_run_with_one_line(project: Path, case: str) -> None:
    make, expected = HOSTILE[case]
    path = project / f"{case}.zip"
    make(path)
    code, output = convert(project, "--plugins", str(path))
    assert code == EXIT_USAGE
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: plugins archive {path}: "), output
    assert expected in lines[0] and "Traceback" not in output
    assert not (project / "out").exists()


def test_a_member_that_fails_its_checksum_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    data = bytearray(make_zip(tmp_path / "p.zip", {"mod.py": "X = 1\n" * 50}, zipfile.ZIP_STORED).read_bytes())
    at = bytes(data).index(b"X = 1")
    data[at] = ord("Y")  # the stored bytes no longer match the CRC
    archive = PluginsArchive.from_bytes(bytes(data), "p.zip")
    found = archive.read("mod.py", 1024 * 1024)
    assert isinstance(found, str) and "cannot be read" in found
    assert archive.digest("mod.py") == "unreadable"
    assert archive.read("mod.py", 10) == "'mod.py' in p.zip is larger than 10 bytes"


def test_a_file_and_folder_of_one_name_is_refused(tmp_path: Path) -> None:
    data = make_zip(tmp_path / "p.zip", {"a": "x", "a/b.py": ""}).read_bytes()
    with pytest.raises(PluginsUnusable, match="both a file and a folder"):
        PluginsArchive.from_bytes(data, "p.zip")


def test_a_regular_package_is_found_in_the_first_layer_only(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "ns").mkdir()
    (tmp_path / "ns" / "here.py").write_text("")
    data = make_zip(tmp_path / "p.zip", {"pkg/__init__.py": "", "pkg/extra.py": "", "ns/there.py": "",
                                         "other/__init__.py": ""}).read_bytes()
    layered = LayeredFolder(LocalFolder(tmp_path), PluginsArchive.from_bytes(data, "p.zip"), tmp_path)
    assert layered.owner("pkg/__init__.py") == "base"
    assert layered.owner("pkg/extra.py") is None  # Python never looks past the first `pkg` package
    assert (layered.owner("ns/here.py"), layered.owner("ns/there.py")) == ("base", "plugins")  # namespace: merged
    assert layered.owner("other/__init__.py") == "plugins"
    assert layered.kind("ns") == "dir" and layered.kind("nothing.py") is None
    assert layered.digest("nothing.py") == "missing"
    assert layered.digest("other/__init__.py").startswith("plugins:sha256:")


def test_the_archive_crosses_to_worker_processes(tmp_path: Path) -> None:
    from dag_converter.pipeline import Options

    data = make_zip(tmp_path / "p.zip", PLUGINS).read_bytes()
    archive = PluginsArchive.from_bytes(data, "p.zip")
    assert archive.read("plugin_text.py", 1024) == TEXT.encode()  # opens the zip in this process
    options = pickle.loads(pickle.dumps(Options(plugins=archive)))
    copy = options.plugins
    assert copy is not None and copy.sha256 == archive.sha256 and copy.dirs == archive.dirs
    assert copy.read("my_company/helpers.py", 1024) == HELPERS.encode()
    assert copy.digest("my_company/helpers.py") == archive.digest("my_company/helpers.py")


def test_the_config_key_must_name_a_file(tmp_path: Path) -> None:
    from dag_converter.config import ConfigError, load_config

    (tmp_path / "pyproject.toml").write_text("[tool.dag-converter]\nplugins = 3\n")
    with pytest.raises(ConfigError, match="plugins must be a path or an s3:// URL"):
        load_config(tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text('[tool.dag-converter]\nplugins = "mwaa/plugins.zip"\n')
    assert load_config(tmp_path / "pyproject.toml").plugins is not None


def test_members_no_read_would_take_are_listed_not_kept(tmp_path: Path) -> None:
    import os

    wheel = os.urandom(3 * 1024 * 1024)  # incompressible: a wheel the environment's requirements install
    data = make_zip(tmp_path / "p.zip", {**PLUGINS, "wheels/x-1.0-py3-none-any.whl": wheel}).read_bytes()
    archive = PluginsArchive.from_bytes(data, "p.zip", max_member=1024 * 1024)
    assert len(pickle.dumps(archive)) < 100_000 and archive.sha256 == hashlib.sha256(data).hexdigest()
    assert archive.kind("wheels/x-1.0-py3-none-any.whl") == "file"
    assert archive.read("wheels/x-1.0-py3-none-any.whl", 5 * 1024 * 1024) == \
        "'wheels/x-1.0-py3-none-any.whl' in p.zip is larger than 1048576 bytes"
    assert archive.digest("wheels/x-1.0-py3-none-any.whl") == f"large:{len(wheel)}"
    copy = pickle.loads(pickle.dumps(archive))
    assert copy.read("my_company/operators.py", 1024 * 1024) == OPERATORS.encode()


def test_a_bad_member_of_a_slimmed_archive_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    import os

    members = {"mod.py": "X = 1\n" * 50, "big.bin": os.urandom(2 * 1024 * 1024)}
    data = bytearray(make_zip(tmp_path / "p.zip", members, zipfile.ZIP_STORED).read_bytes())
    at = bytes(data).index(b"X = 1")
    data[at] = ord("Y")
    archive = PluginsArchive.from_bytes(bytes(data), "p.zip", max_member=1024 * 1024)
    found = archive.read("mod.py", 1024 * 1024)
    assert isinstance(found, str) and found.startswith("'mod.py' in p.zip cannot be read")
