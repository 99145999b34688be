"""``python -m dag_converter.registry build``: regenerate the data file from the installed provider.

    python -m dag_converter.registry build [--provider amazon|standard] [--provider-version X] [--output PATH]

`dag-converter registry build` calls the same function; `dag-converter operators` lists the rules
as a target sees them, and `python -m dag_converter.docs` writes docs/operators.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dag_converter.registry")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="regenerate the registry data from the installed provider")
    build.add_argument("--provider", choices=("amazon", "standard"), default="amazon", help="which provider to read")
    build.add_argument("--provider-version", help="fail unless this provider version is installed")
    build.add_argument("--output", type=Path, help="default: dag_converter/registry/data/amazon-<version>.json")
    args = parser.parse_args(argv)

    from dag_converter.registry._build import PROVIDERS, write_registry_data

    try:
        path = write_registry_data(args.output, args.provider_version, PROVIDERS[args.provider])
    except RuntimeError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stderr.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
