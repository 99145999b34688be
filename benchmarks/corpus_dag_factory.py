"""Convert the Amazon provider's example DAGs with --target dag-factory and verify each one.

    PYTHONPATH=. python benchmarks/corpus_dag_factory.py [CORPUS_DIR]

CORPUS_DIR defaults to ~/.cache/dag-converter-corpus/amazon-9.30.0/tests/system/amazon/aws
(shared/corpus/fetch-provider-examples.sh). The examples import Airflow's `tests_common` test
helpers, so the test suite's stand-ins (`tests/analyzer/corpus_shims`) and the corpus's own `tests/` folder
(for `system.amazon.aws.utils`) go on sys.path while DagBag loads them. Prints one line per DAG
(converted + equivalent, converted + differences, or refused with its first error) and the
totals, with the most frequent refusal reasons.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

from dag_converter.model import Severity
from dag_converter.batch import convert_sources
from dag_converter.pipeline import Options
from dag_converter.storage.local import local_source
from dag_converter.targets import get_target

DEFAULT = Path.home() / ".cache/dag-converter-corpus/amazon-9.30.0/tests/system/amazon/aws"
# The same stand-ins the corpus fidelity test loads the examples with; one copy to keep current.
SHIMS = Path(__file__).resolve().parents[1] / "tests" / "analyzer" / "corpus_shims"


def main(argv: list[str]) -> int:
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT
    files = sorted(corpus.glob("example_*.py"))
    if not files:
        print(f"no example_*.py in {corpus}", file=sys.stderr)
        return 2
    tests_root = next((p for p in corpus.parents if p.name == "tests"), None)
    for extra in (SHIMS, tests_root):
        if extra is not None:
            sys.path.insert(0, str(extra))
    from dag_converter.verify import SourceLoadError, YamlLoadError, verify

    options = Options(target=get_target("dag-factory", dags_folder=str(corpus.resolve())))
    import tempfile

    counts = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    out = Path(tempfile.mkdtemp(prefix="corpus-dag-factory-"))
    for path in files:
        result = convert_sources([local_source(path, path.name, path.name)], options)[0]
        if not result.dags:
            counts["files without a converted or refused DAG"] += 1
            errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
            first = errors[0] if errors else (result.diagnostics[0] if result.diagnostics else None)
            if first is not None:
                reasons[f"(file) {first.code} {_reason(first.message)}"] += 1
            print(f"{path.name}: {result.status}: {first.code + ' ' + first.message if first else ''}")
            continue
        for dag in result.dags:
            counts["dags"] += 1
            if not dag.converted:
                counts["refused"] += 1
                errors = [d for d in dag.diagnostics if d.severity is Severity.ERROR]
                first = errors[0]
                reasons[f"{first.code} {_reason(first.message)}"] += 1
                print(f"{path.name}: {dag.dag_id}: refused: {first.code} {first.message} (line {first.span.line})")
                continue
            counts["converted"] += 1
            target = out / dag.output_name
            target.write_text(dag.yaml_text, encoding="utf-8")
            try:
                diffs = verify(path, [target], task_groups=True)
            except (SourceLoadError, YamlLoadError) as exc:
                counts["not verified (load error)"] += 1
                print(f"{path.name}: {dag.dag_id}: converted, not verified: {exc}")
                continue
            if diffs:
                counts["converted, differences"] += 1
                print(f"{path.name}: {dag.dag_id}: converted, {len(diffs)} differences: {diffs[0].message}")
            else:
                counts["verified equivalent"] += 1
                print(f"{path.name}: {dag.dag_id}: converted, verified equivalent")
    print()
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    print("top refusal reasons:")
    for reason, n in reasons.most_common(10):
        print(f"  {n:3d}  {reason}")
    return 0


def _reason(message: str) -> str:
    """The message without the task/dag specific part, to group refusals."""
    return message.rsplit(": ", 1)[-1][:100] if ": " in message else message[:100]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
