"""[tool.dag-converter] in pyproject.toml: discovery, parsing, exclusion."""

from __future__ import annotations

from pathlib import Path

import pytest

from dag_converter.config import ConfigError, find_config, is_excluded, load_config, parse_report_formats


def _pyproject(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_nearest_pyproject_with_our_table_wins(tmp_path: Path) -> None:
    ours = _pyproject(tmp_path, '[tool.dag-converter]\noutput = "yaml"\n')
    _pyproject(tmp_path / "pkg", '[project]\nname = "other"\n')  # no table: keep walking up
    start = tmp_path / "pkg" / "dags"
    start.mkdir(parents=True)
    assert find_config([start]) == ours


def test_start_points_are_tried_in_order(tmp_path: Path) -> None:
    _pyproject(tmp_path / "b", "[tool.dag-converter]\n")
    assert find_config([tmp_path / "a", tmp_path / "b" / "dags" / "x.py"]) == tmp_path / "b" / "pyproject.toml"
    assert find_config([tmp_path / "a"]) is None


def test_values_and_relative_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = _pyproject(tmp_path / "proj", """
[tool.dag-converter]
output = "yaml"
target = "mwaa-serverless"
allow_operators = ["my.ops.*"]
exclude = ["dags/common"]
report-format = "json,sarif"
max-file-size = 1000
""")
    config = load_config(path)
    assert config.output == str(Path("proj") / "yaml")
    assert config.allow_operators == ("my.ops.*",)
    assert config.exclude == ("dags/common",)
    assert config.report_formats == ("json", "sarif")
    assert config.max_file_size == 1000
    assert config.base == tmp_path / "proj"


@pytest.mark.parametrize(("body", "message"), [
    ("[tool.dag-converter]\nouptut = 'x'\n", "unknown key(s) in [tool.dag-converter]: ouptut"),
    ("[tool.dag-converter]\nexclude = 'dags'\n", "exclude must be a list of strings"),
    ("[tool.dag-converter]\nmax-file-size = true\n", "max-file-size must be a positive integer"),
    ("[tool.dag-converter]\nreport-format = ['pdf']\n", "unknown report format(s) pdf"),
    ("[tool.dag-converter\n", "invalid TOML"),
])
def test_bad_config_is_an_error_naming_the_file(tmp_path: Path, body: str, message: str) -> None:
    path = _pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_report_formats() -> None:
    assert parse_report_formats("json, md,html,json") == ("json", "md", "html")
    assert parse_report_formats("none") == ()
    with pytest.raises(ConfigError):
        parse_report_formats("xml")


@pytest.mark.parametrize(("relative", "patterns", "excluded"), [
    ("dags/common/util.py", ["dags/common"], True),
    ("dags/common/util.py", ["dags/common/*"], True),
    ("dags/etl.py", ["dags/common"], False),
    ("dags/x/etl_test.py", ["*_test.py"], True),
    ("dags/etl.py", ["*_test.py"], False),
    ("dags/etl.py", [], False),
])
def test_exclude_patterns(tmp_path: Path, relative: str, patterns: list[str], excluded: bool) -> None:
    assert is_excluded(tmp_path / relative, patterns, tmp_path) is excluded
