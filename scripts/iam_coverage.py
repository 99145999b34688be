"""Print for how many of the registry's operator classes the IAM actions were derived, and why the
rest were not (from the shipped data: registry/data/iam-amazon-<version>.json).

    PYTHONPATH=. python scripts/iam_coverage.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dag_converter.registry import PROVIDER_VERSION, data_path  # noqa: E402


def coverage_text() -> str:
    rules = json.loads(data_path().read_text(encoding="utf-8"))["rules"]
    iam = json.loads((data_path().parent / f"iam-amazon-{PROVIDER_VERSION}.json").read_text(encoding="utf-8"))
    derived = [p for p in rules if p in iam["operators"]]
    missing = {p: iam["not_derived"].get(p, "not in the IAM data") for p in rules if p not in iam["operators"]}
    abstract = {p for p in missing if p.rsplit(".", 1)[-1].startswith(("Aws", "Base")) or "Base" in p.rsplit(".", 1)[-1]}
    actions = {a for entry in iam["operators"].values() for a in entry["actions"]}
    lines = [
        f"IAM actions derived for {len(derived)} of {len(rules)} operator classes "
        f"({100 * len(derived) / len(rules):.1f} %; {len(rules) - len(abstract)} concrete classes, "
        f"{len(derived)} derived = {100 * len(derived) / (len(rules) - len(abstract)):.1f} %), "
        f"{len(actions)} distinct actions; catalogue {iam['catalogue']['distribution']} {iam['catalogue']['version']}",
        f"not derived: {len(missing)} ({len(abstract)} abstract bases)",
    ]
    reasons = Counter(("abstract base: " if p in abstract else "") + r for p, r in missing.items())
    for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {count:3d}  {reason}")
    for path, reason in sorted(missing.items()):
        lines.append(f"    {path.removeprefix('airflow.providers.amazon.aws.')}: {reason}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(coverage_text())
