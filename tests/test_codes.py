"""The diagnostic table: documented, unique, and every example raises its own code."""

from __future__ import annotations

import textwrap

import pytest

from dag_converter import codes
from dag_converter.docs import render_diagnostics_markdown
from dag_converter.pipeline import Options, convert_source
from dag_converter.targets import get_target
from fixture_cases import ROOT, TODAY

# DC6xx examples are deploy commands, not DAG files: tests/deploy raises each of them.
WITH_EXAMPLE = [c for c in codes.documented_codes()
                if (c.example is not None or c.example_file) and not c.code.startswith("DC6")]


@pytest.mark.parametrize("code", WITH_EXAMPLE, ids=lambda c: c.code)
def test_example_raises_its_code(code: codes.Code) -> None:
    if code.example is not None:
        data = textwrap.dedent(code.example).encode("utf-8")
        name = "example.py"
    else:
        path = ROOT / "fixtures" / "diagnostics" / code.example_file  # type: ignore[operator]
        data, name = path.read_bytes(), path.name
    target = get_target(code.example_target, dags_folder=code.example_dags_folder)
    result = convert_source(data, name, name, Options(target=target, today=TODAY))
    assert code.code in {d.code for d in result.all_diagnostics()}


def test_every_code_but_runtime_ones_has_an_example() -> None:
    # These need a real failure of the file system, S3 or the converter itself; they are
    # exercised by the I/O, S3 and robustness tests instead of an example file. DC114/DC115
    # compare with YAML on disk (tests/test_cli_check.py, tests/test_precommit.py). DC340-DC346 come
    # from building a code package (tests/codepackage), which convert_source does not do yet.
    runtime_only = {"DC104", "DC107", "DC108", "DC109", "DC110", "DC112", "DC113", "DC114", "DC115", "DC116", "DC305", "DC308",
                    "DC309", "DC310", "DC311", "DC312", "DC315", "DC319", "DC320", "DC404", "DC406", "DC901",
                    # raised while deriving an execution role, not by a conversion: tests/iam/
                    "DC510", "DC511", "DC512", "DC513", "DC514",
                    # needs --var/--env: tests/analyzer/test_folder_files.py
                    "DC205",
                    # raised while building a code package: tests/codepackage/
                    "DC340", "DC341", "DC342", "DC343", "DC344", "DC345", "DC346",
                    # need --requirements / --build-deps: tests/codepackage/test_pins.py, test_build_deps.py
                    "DC347", "DC348",
                    # the folder and the output as a whole: tests/robustness/test_hostile_folders.py
                    "DC120", "DC121", "DC122",
                    # needs --once-as manual: fixtures/dags/once_as_manual.py (tests/targets/test_service_rules.py)
                    "DC412"}
    missing = {c.code for c in codes.documented_codes() if c.example is None and not c.example_file}
    missing = {c for c in missing if not c.startswith("DC9")}  # internal codes are exempt (STYLE.md 6)
    assert missing <= runtime_only


def test_every_error_and_warning_code_has_a_hint() -> None:
    """A refusal or a warning always says what to do next, on the line under the message."""
    missing = [c.code for c in codes.documented_codes() if c.severity.value != "info" and not c.hint]
    assert missing == []


def test_no_hint_offers_override_parameters_where_it_cannot_reach() -> None:
    """--override-parameters sets params for one run; only a params template in a templated field sees them."""
    for code in codes.documented_codes():
        if code.hint and "--override-parameters" in code.hint:
            assert "params" in code.hint and "templat" in code.hint, code.code


def test_registering_a_code_twice_fails() -> None:
    with pytest.raises(ValueError):
        codes.register(codes.Code("DC301", "another-name", codes.Severity.ERROR, "m", "s", "w", "f"))
    with pytest.raises(ValueError):
        codes.register(codes.Code("DC399", "unsupported-operator", codes.Severity.ERROR, "m", "s", "w", "f"))


def test_docs_diagnostics_is_current(snapshot) -> None:
    snapshot.snapshot_dir = ROOT / "docs"
    snapshot.assert_match(render_diagnostics_markdown(), "diagnostics.md")


def test_every_code_is_documented() -> None:
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code in codes.documented_codes():
        assert f"### {code.code} `{code.name}`" in text


def test_a_blank_hint_falls_back_to_the_documented_fix() -> None:
    from dag_converter.model import Span

    made = codes.make(codes.UNRESOLVED_VALUE, Span("x.py", 1, 1), what="w", reason="r", hint="")
    assert made.hint == codes.UNRESOLVED_VALUE.fix
    assert codes.make(codes.UNRESOLVED_VALUE, Span("x.py", 1, 1), what="w", reason="r", hint="h").hint == "h"
