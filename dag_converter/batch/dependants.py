"""A run given a helper module of the DAG folder also converts (or checks) every DAG file that
reads it, directly or through other folder modules.

What each source read or looked for is in the manifest (FileResult.reads, recorded by the runner); when the
manifest knows nothing of a helper's folder (no full run yet, as in a repository that only ever
ran the pre-commit hook), the folder's Python files are scanned for imports instead
(folder_reads.py). Only local sources are followed to their dependants: an S3 object named alone
is converted on its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from dag_converter.batch.manifest import Manifest
from dag_converter.folder_reads import display_of, folder_reads, is_inside, module_names_of
from dag_converter.storage import Source
from dag_converter.storage.local import is_skipped_folder, open_local


def with_dependants(sources: Sequence[Source], recorded: Manifest) -> list[Source]:
    """`sources`, then each DAG file not among them that reads one of the explicitly named ones.
    A named file inside a package (a folder with __init__.py) is taken as the walk of the folder
    above the package finds it, so its entry in the manifest is the one a full run records."""
    given = {os.path.normpath(s.display) for s in sources}
    walks: dict[str, dict[str, Source]] = {}

    def walk(display_root: str) -> dict[str, Source]:
        if display_root not in walks:
            walked, _, _ = open_local([display_root or "."])
            walks[display_root] = {os.path.normpath(s.display): s for s in walked}
        return walks[display_root]

    named: list[Source] = []
    added: list[Source] = []
    for source in sources:
        if not source.explicit or not isinstance(source.root, Path):  # an S3 object's root is its S3Folder
            named.append(source)
            continue
        root, relative, display_root = _package_root(source.root, source.relative,
                                                     _display_root(source.display, source.relative))
        rooted = walk(display_root).get(os.path.normpath(source.display)) if relative != source.relative else None
        named.append(rooted or source)
        wanted = {os.path.normpath(display_of(display_root, other))
                  for other in _readers(relative, root, display_root, recorded)} - given
        if not wanted:
            continue
        given |= wanted
        # The folder's own walk names them as a full run does (same display, root and
        # fingerprint, so the manifest entry is the same) and drops .airflowignore'd files.
        added.extend(s for display, s in walk(display_root).items() if display in wanted)
    return [*named, *added]


def _package_root(root: Path, relative: str, display_root: str) -> tuple[Path, str, str]:
    """A file named alone has its own folder as DAG folder; a helper inside a package
    (`dags/common/settings.py` with `dags/common/__init__.py`) is imported as `common.settings`
    from the folder above the package: climb while the folder is a package."""
    while (root / "__init__.py").is_file() and root.parent != root and display_root not in ("", "."):
        relative = f"{root.name}/{relative}"
        root = root.parent
        display_root = os.path.dirname(display_root)
    return root, relative, display_root


def _display_root(display: str, relative: str) -> str:
    head = display
    for _ in range(relative.count("/") + 1):
        head = os.path.dirname(head)
    return head


def _readers(relative: str, root: Path, display_root: str, recorded: Manifest) -> list[str]:
    """Files of the folder (relative to it) that read the module at `relative`."""
    known = [(entry.relative, entry.reads) for display, entry in recorded.sources.items()
             if entry.relative and os.path.normpath(display) == os.path.normpath(display_of(display_root,
                                                                                            entry.relative))]
    if known:
        return sorted(other for other, reads in known
                      if any(read.path == relative for read in reads) and (root / other).is_file())
    return sorted(other for other in _python_files(root) if other != relative and _reads(root, other, relative))


def _reads(root: Path, other: str, relative: str) -> bool:
    if not is_inside(root / other, os.path.realpath(root)):
        return False  # a link out of the DAG folder is never read
    try:
        text = (root / other).read_bytes().decode("utf-8", "replace")
    except OSError:
        return False
    # A file that never spells the module's name cannot import it: most files are not parsed.
    if not any(name in text for name in module_names_of(relative)[-1:]):
        return False
    return relative in folder_reads(text, other, root)


def _python_files(root: Path) -> Iterator[str]:
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not is_skipped_folder(d))
        for name in sorted(names):
            if name.endswith(".py"):
                yield Path(folder, name).relative_to(root).as_posix()


__all__ = ["with_dependants"]
