"""Shared test setup: a fixed "today" for relative dates, and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# Relative start dates (days_ago) are computed from this date in every test, so snapshots are stable.
os.environ.setdefault("DAG_CONVERTER_TODAY", "2026-11-24")


@pytest.fixture
def root() -> Path:
    return ROOT
