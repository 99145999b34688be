"""Which modules of the DAG folder a file reads, directly or through other folder modules.

The analyzer records what a conversion read (FileResult.reads, kept in the manifest); without a
manifest, this scan finds the modules by the same rules: a dotted name is a folder
module when `a/b.py`, `a/b/__init__.py` or the folder `a/b` exists below the DAG folder, and
names of the standard library or of installed packages Airflow puts first on sys.path never
are. The scan reads import statements from the text with a regular expression: it may name a
module the analysis never reached (an import in a string or under a false `if`), never the
other way round, so a dependant is at worst converted once too often.

Used when a run is given a helper module and no manifest records what the folder's DAG files read
(batch/dependants.py): the DAG files that may read it are converted too. Nothing outside the DAG
folder's root is read: a module that is a link out of it is named, never opened.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Final

_INSTALLED: Final = frozenset(sys.stdlib_module_names) | {
    "airflow", "pendulum", "boto3", "botocore", "dagfactory", "dateutil", "jinja2", "yaml", "tests_common",
}
# `import a.b as c, d` and `from .a import (b, c)`; a parenthesised list may span lines.
_IMPORT: Final = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<base>\.*[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#;]*)"
    r"|import[ \t]+(?P<modules>[^\n#;]*))",
    re.MULTILINE)
_MAX_MODULES: Final = 1000  #: a folder with more reachable modules is read this far, no further
_MAX_SOURCE: Final = 5 * 1024 * 1024


def imported_names(text: str, package: str) -> list[str]:
    """Dotted module names the text may import, relative imports resolved against `package`
    (the file's folder below the DAG folder, dotted); `from a import b` names both a and a.b."""
    found: list[str] = []
    for match in _IMPORT.finditer(text):
        if match.group("modules") is not None:
            for part in match.group("modules").split(","):
                name = part.strip().split(" ")[0].strip()
                if name:
                    found.append(name)
            continue
        base = match.group("base")
        dots = len(base) - len(base.lstrip("."))
        if dots:
            anchor = package.split(".") if package else []
            if dots - 1 > len(anchor):
                continue
            anchor = anchor[:len(anchor) - (dots - 1)]
            base = ".".join([*anchor, base[dots:]] if base[dots:] else anchor)
        if base:
            found.append(base)
        for part in match.group("names").strip("()").replace("\n", " ").split(","):
            name = part.strip().split(" ")[0].strip()
            if name and name != "*" and name.isidentifier():
                found.append(f"{base}.{name}" if base else name)
    return found


def module_file(root: Path, name: str) -> Path | None:
    """The file (or namespace folder) of folder module `name`, as Airflow's sys.path finds it."""
    parts = name.split(".")
    if not name or parts[0] in _INSTALLED or not all(p.isidentifier() for p in parts):
        return None
    base = root.joinpath(*parts)
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return base if base.is_dir() else None


def folder_reads(text: str, relative: str, root: Path) -> tuple[str, ...]:
    """The folder modules (paths relative to `root`, '/'-separated, sorted) that the file at
    `relative` with source `text` reads, directly or through the modules it reads; never itself."""
    seen: set[str] = {relative}
    reads: set[str] = set()
    real_root = os.path.realpath(root)
    queue = [(text, ".".join(relative.split("/")[:-1]))]
    while queue and len(reads) < _MAX_MODULES:
        source, package = queue.pop()
        for name in imported_names(source, package):
            found = module_file(root, name)
            # A package's __init__ runs before any of its modules: `a.b` also reads `a`.
            parents = [module_file(root, ".".join(name.split(".")[:n])) for n in range(1, name.count(".") + 1)]
            for path in (found, *parents):
                if path is None or path.is_dir():
                    continue
                key = path.relative_to(root).as_posix()
                if key in seen:
                    continue
                seen.add(key)
                reads.add(key)
                module = key[:-len("/__init__.py")] if key.endswith("/__init__.py") else key[:-3]
                module_package = module.replace("/", ".") if key.endswith("__init__.py") else \
                    ".".join(module.split("/")[:-1])
                if not is_inside(path, real_root):
                    continue  # a link out of the DAG folder: named as read, never read
                try:
                    if path.stat().st_size > _MAX_SOURCE:
                        continue
                    queue.append((path.read_bytes().decode("utf-8", "replace"), module_package))
                except OSError:
                    continue
    return tuple(sorted(reads))


def is_inside(path: Path, real_root: str) -> bool:
    """Whether `path`'s real path (links resolved) is the resolved root or below it."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return False
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def module_names_of(relative: str) -> tuple[str, ...]:
    """The names a file at `relative` below the DAG folder is imported by (its last part alone
    for a prefilter: a file that never spells it cannot import it)."""
    stem = relative[:-len("/__init__.py")] if relative.endswith("/__init__.py") else relative.removesuffix(".py")
    return tuple(stem.split("/"))


def display_of(display_root: str, relative: str) -> str:
    """A folder file's path spelled like the source it was found from."""
    return os.path.join(display_root, *relative.split("/")) if display_root else relative


__all__ = ["display_of", "folder_reads", "imported_names", "is_inside", "module_file", "module_names_of"]
