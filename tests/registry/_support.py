"""Shared helpers for the registry tests."""

from __future__ import annotations

import importlib
import importlib.metadata
import warnings
from pathlib import Path
from types import ModuleType

import pytest

from dag_converter.registry import PROVIDER_VERSION

ROOT = Path(__file__).resolve().parents[2]


def installed_provider_version() -> str | None:
    try:
        return importlib.metadata.version("apache-airflow-providers-amazon")
    except importlib.metadata.PackageNotFoundError:
        return None


requires_shipped_provider = pytest.mark.skipif(
    installed_provider_version() != PROVIDER_VERSION,
    reason=f"needs apache-airflow-providers-amazon=={PROVIDER_VERSION} installed (the shipped data's version)",
)


def import_quietly(module: str) -> ModuleType | Exception:
    """Import a provider module (tests may; the converter never does), or the error it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except Exception as exc:  # an optional dependency of the provider is missing
        return exc
