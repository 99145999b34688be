"""``python -m dag_converter.registry``: build the data file, list operators, write the docs.

    python -m dag_converter.registry build [--provider-version X] [--output PATH]
    python -m dag_converter.registry operators [--target T] [--json]
    python -m dag_converter.registry docs [--output PATH]

The CLI (`dag-converter registry build`, `dag-converter operators`) calls the same functions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

# The one upward import of the registry package: this command-line face lists operators as a
# target sees them, and the registry itself knows no target.
from dag_converter.targets import DEFAULT_TARGET, TARGET_NAMES, get_target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dag_converter.registry")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="regenerate the registry data from the installed provider")
    build.add_argument("--provider-version", help="fail unless this provider version is installed")
    build.add_argument("--output", type=Path, help="default: dag_converter/registry/data/amazon-<version>.json")
    ops = commands.add_parser("operators", help="list supported operator classes")
    ops.add_argument("--target", default=DEFAULT_TARGET, choices=TARGET_NAMES)
    ops.add_argument("--json", action="store_true")
    docs = commands.add_parser("docs", help="write docs/operators.md")
    docs.add_argument("--output", type=Path, default=Path("docs/operators.md"))
    args = parser.parse_args(argv)

    if args.command == "build":
        from dag_converter.registry._build import write_registry_data

        try:
            path = write_registry_data(args.output, args.provider_version)
        except RuntimeError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 2
        sys.stderr.write(f"wrote {path}\n")
    elif args.command == "operators":
        from dag_converter.registry._render import render_operators

        sys.stdout.write(render_operators(get_target(args.target), args.json))
    else:
        from dag_converter.registry._render import render_operators_markdown

        args.output.write_text(render_operators_markdown(get_target(DEFAULT_TARGET)), encoding="utf-8")
        sys.stderr.write(f"wrote {args.output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
