"""Coverage-guided fuzzing of convert_source with atheris (libFuzzer), outside the test suite.

    pip install atheris
    PYTHONPATH=. python tests/robustness/fuzz_atheris.py -runs=20000 -timeout=30 -rss_limit_mb=4096

Starts from the same seeds as test_fuzz.py (written to .fuzz-corpus/). A crash, a hang (-timeout)
or an exception stops the run and libFuzzer saves the input as crash-*/timeout-*.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["dag_converter"]):
    from dag_converter.pipeline import convert_source

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.robustness._support import OPTIONS, seed_sources  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / ".fuzz-corpus"


def test_one_input(data: bytes) -> None:
    result = convert_source(data, "fuzz.py", "fuzz.py", OPTIONS)
    if any(d.code == "DC901" for d in result.all_diagnostics()):
        raise RuntimeError(f"DC901: {[d.message for d in result.all_diagnostics()]}")


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    for index, source in enumerate(seed_sources().values()):
        (CORPUS / f"seed-{index:03}.py").write_text(source, encoding="utf-8")
    atheris.Setup([*sys.argv, str(CORPUS)], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
