"""`--build-deps`: install a package's requirements into it with pip, for the workers' platform.

pip runs as `python -m pip install -r requirements.txt --target DIR` with the service's platform flags
(manylinux2014_x86_64, Python 3.12, wheels only: the workers cannot build an sdist), `--no-compile`,
quietly, under a timeout, in a temporary folder: never in the DAG folder, and nothing of the DAG
folder is run (pip reads only the requirements file the converter wrote). The installed files are
then read back as package entries, at the archive root where the workers import them:

- left out: `bin/` (console scripts, whose first line names this machine's interpreter),
  `__pycache__` and compiled files, and every file of a distribution MWAA Serverless pre-installs
  (pip installs dependencies too; a second copy of, say, `requests` would shadow the service's own);
- each `.dist-info/RECORD` keeps only the rows of files that are shipped, so the zip is the same on
  every machine.

One result per distinct requirements text is kept for the life of the process: DAGs that need the
same distributions run pip once.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from dag_converter.codepackage._environment import Environment, canonical
from dag_converter.codepackage.archive import PackageEntry, is_excluded
from dag_converter.codepackage.requirements import PIP_PLATFORM_FLAGS

PIP_TIMEOUT: Final = 600  #: seconds for one pip run
#: bytes of installed files one package may hold: the converter builds the zip in memory. MWAA Serverless
#: documents no size limit for a code package (SERVICE.md, "Code packages"); this bound is ours.
VENDOR_MAX_BYTES: Final = 256 * 1024 * 1024
_SKIPPED_TOP: Final = frozenset({"bin"})
#: pip settings that choose where it installs, which --target decides here
_PLACEMENT: Final = frozenset({"PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_USER", "PIP_SRC", "PYTHONPATH"})


@dataclass(frozen=True, slots=True)
class Vendored:
    """What pip installed for one requirements text: the entries to add, or why there are none."""

    entries: tuple[PackageEntry, ...] = ()
    left_out: tuple[str, ...] = ()  #: pre-installed distributions pip brought in as dependencies, not shipped
    error: str | None = None  #: pip's last line, or what else went wrong


_cache: dict[tuple[str, ...], Vendored] = {}
_lock = threading.Lock()


def vendor(lines: Sequence[str], environment: Environment, *, timeout: float = PIP_TIMEOUT) -> Vendored:
    """Install the requirement `lines` (`networkx==3.4.2`) for the workers; cached per distinct lines."""
    key = tuple(lines)
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    result = _install(key, environment, timeout)
    if result.error is None:  # a failure (no network yet) may not last: the next DAG tries again
        with _lock:
            _cache[key] = result
    return result


def pip_install_args(requirements: str, target: str) -> list[str]:
    """pip's arguments (after `python -m pip`) for one run."""
    return ["install", "--no-input", "--disable-pip-version-check", "--quiet", "--no-compile",
            "-r", requirements, "--target", target, *PIP_PLATFORM_FLAGS]


def _install(lines: tuple[str, ...], environment: Environment, timeout: float) -> Vendored:
    with tempfile.TemporaryDirectory(prefix="dag-converter-deps-") as work:
        folder = Path(work)
        (folder / "requirements.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        target = folder / "target"
        # the user's pip configuration (index, proxy, certificates) applies; not where it would install
        env = {k: v for k, v in os.environ.items() if k not in _PLACEMENT}
        env.update(PIP_NO_INPUT="1", PYTHONDONTWRITEBYTECODE="1")
        command = [sys.executable, "-m", "pip", *pip_install_args("requirements.txt", str(target))]
        try:
            done = subprocess.run(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return Vendored(error=f"pip did not finish within {timeout:g} seconds")
        except OSError as exc:
            return Vendored(error=f"cannot run pip: {exc}")
        if done.returncode != 0:
            return Vendored(error=_last_line(done.stderr) or _last_line(done.stdout)
                            or f"pip exited with status {done.returncode}")
        return _read_target(target, environment)


def _last_line(output: bytes) -> str:
    """pip's last error line (its warnings come first), else its last line."""
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or [""])[-1][:500]


def _read_target(target: Path, environment: Environment) -> Vendored:
    files: dict[str, Path] = {}
    for path in sorted(target.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(target).as_posix()
        if relative.split("/")[0] in _SKIPPED_TOP or is_excluded(relative):
            continue
        files[relative] = path
    owners, names = _owners(files)
    dropped = {info for info, name in names.items() if environment.is_preinstalled(name)}
    shipped = {p for p in files if owners.get(p) not in dropped}
    total = sum(files[p].stat().st_size for p in shipped)
    if total > VENDOR_MAX_BYTES:
        return Vendored(error=f"pip installed {total} bytes; a package takes at most {VENDOR_MAX_BYTES} "
                              "from --build-deps")
    entries: list[PackageEntry] = []
    for relative in sorted(shipped):
        data = files[relative].read_bytes()
        info = owners.get(relative)
        if relative.endswith(".dist-info/RECORD"):
            data = _shipped_record(data, relative.rsplit("/", 1)[0], shipped)
        reason = (f"installed by --build-deps: {_label(info)}" if info is not None
                  else "installed by --build-deps")
        entries.append(PackageEntry(relative, data, reason))
    return Vendored(tuple(entries), tuple(sorted(names[i] for i in dropped)))


def _owners(files: dict[str, Path]) -> tuple[dict[str, str], dict[str, str]]:
    """path -> the `.dist-info` folder whose RECORD lists it; dist-info folder -> canonical name."""
    owners: dict[str, str] = {}
    names: dict[str, str] = {}
    for relative, path in files.items():
        if not relative.endswith(".dist-info/RECORD") or relative.count("/") != 1:
            continue
        info = relative.split("/")[0]
        names[info] = canonical(info.removesuffix(".dist-info").rsplit("-", 1)[0])
        for row in csv.reader(io.StringIO(path.read_text("utf-8", "replace"))):
            if row and row[0] in files:
                owners[row[0]] = info
        for other in files:
            if other.startswith(info + "/"):
                owners[other] = info
    return owners, names


def _label(info: str) -> str:
    name, _, version = info.removesuffix(".dist-info").rpartition("-")
    return f"{name} {version}"


def _shipped_record(data: bytes, info: str, shipped: set[str]) -> bytes:
    """RECORD with only the rows of files in the package (console scripts and caches are not)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows = [row for row in csv.reader(io.StringIO(data.decode("utf-8", "replace")))
            if row and (row[0] in shipped or row[0] == f"{info}/RECORD")]
    writer.writerows(sorted(rows))  # in path order, whichever order this pip wrote them
    return out.getvalue().encode("utf-8")


__all__ = ["PIP_TIMEOUT", "VENDOR_MAX_BYTES", "Vendored", "pip_install_args", "vendor"]
