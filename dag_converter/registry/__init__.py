"""The rule registry: what the converter knows about each operator class.

API used by the rest of the pipeline (keep it stable):
- `get_registry()` -> the process-wide `Registry`, loaded lazily once.
- `Registry.resolve(path)` -> `Resolution(canonical, rule, legacy_from)`: maps a class path as
  written (possibly an Airflow 2 or renamed name) to its canonical path and rule.
- `OperatorRule.accepts(name)`, `.required`, `.templated_fields`, `.allowlisted`, `.suggest(name)`.

This first version holds hand-written rules only; the generated Amazon provider data replaces it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

AMAZON_PREFIX: Final = "airflow.providers.amazon."
EMPTY_OPERATOR_PATH: Final = "airflow.providers.standard.operators.empty.EmptyOperator"


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    required: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorRule:
    class_path: str  #: canonical, fully qualified
    params: tuple[Param, ...] = ()  #: own and inherited; Param.required says which
    templated_fields: frozenset[str] = frozenset()
    legacy_paths: tuple[str, ...] = ()  #: older names that resolve to this rule
    allowlisted: bool = False  #: in the MWAA Serverless documented allowlist (TARGET.md §1.7)
    service: str = ""  #: e.g. "s3", for grouping
    kind: str = "operator"  #: operator | sensor | transfer
    complete: bool = False  #: True when params lists every accepted argument

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    def accepts(self, name: str) -> bool:
        return not self.complete or any(p.name == name for p in self.params)

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, [p.name for p in self.params], n=1)
        return close[0] if close else None


@dataclass(frozen=True, slots=True)
class Resolution:
    canonical: str
    rule: OperatorRule | None
    legacy_from: str | None = None  #: the path as written, when it was a legacy name


@dataclass
class Registry:
    rules: dict[str, OperatorRule] = field(default_factory=dict)
    legacy: dict[str, str] = field(default_factory=dict)  #: old path -> canonical path

    def add(self, rule: OperatorRule) -> None:
        if "." not in rule.class_path or rule.class_path in self.rules:
            raise ValueError(f"bad or duplicate rule {rule.class_path!r}")
        self.rules[rule.class_path] = rule
        for old in rule.legacy_paths:
            self.legacy[old] = rule.class_path

    def resolve(self, path: str) -> Resolution:
        canonical = self.legacy.get(path, path)
        legacy_from = path if canonical != path else None
        return Resolution(canonical, self.rules.get(canonical), legacy_from)


_EMPTY = OperatorRule(
    class_path=EMPTY_OPERATOR_PATH,
    legacy_paths=(
        "airflow.operators.empty.EmptyOperator",
        "airflow.operators.dummy.DummyOperator",
        "airflow.operators.dummy_operator.DummyOperator",
        "airflow.operators.dummy.EmptyOperator",
        "airflow.providers.standard.operators.empty.DummyOperator",
    ),
    allowlisted=True,
    service="core",
)


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    registry = Registry()
    registry.add(_EMPTY)
    return registry


__all__ = ["AMAZON_PREFIX", "EMPTY_OPERATOR_PATH", "OperatorRule", "Param", "Registry", "Resolution", "get_registry"]
