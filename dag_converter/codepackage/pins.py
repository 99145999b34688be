"""Versions for a package's requirements, from a pip requirements or constraints file.

`convert --requirements FILE` (or `[tool.dag-converter] requirements`) and `migrate` (the MWAA
environment's requirements.txt) give the versions the code ran with. Each line is read with
`packaging` (PEP 508): `name==version` is a pin; another specifier (`pandas>=2`) is written as given
and still counts as not pinned; an environment marker is evaluated for the workers (Linux x86_64,
CPython 3.12) and a line whose marker does not hold there is left out. Lines that are not requirements
(comments, pip options, `-r`/`-c` includes, URLs, editable installs, markers that cannot be evaluated)
are ignored, and the warning for an unpinned distribution says which of them could have pinned it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement

from dag_converter.codepackage._environment import canonical

#: PEP 508 marker values of the service's workers (SERVICE.md, "Code packages": manylinux2014_x86_64, Python 3.12)
WORKER_MARKERS: Final = {
    "implementation_name": "cpython", "implementation_version": "3.12.0", "os_name": "posix",
    "platform_machine": "x86_64", "platform_python_implementation": "CPython", "platform_release": "",
    "platform_system": "Linux", "platform_version": "", "python_full_version": "3.12.0", "python_version": "3.12",
    "sys_platform": "linux", "extra": "",
}
MAX_LINES: Final = 5000  #: a requirements file is small; more lines than this are not read
MAX_LINE: Final = 1000  #: characters; a longer line is ignored
#: a per-requirement pip option after the requirement (`pkg==1 --hash=sha256:...`): dropped, as the version is all we use
_LINE_OPTION: Final = re.compile(r"\s+--?[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Ignored:
    """A line of the file that is not used, and why."""

    line: int
    text: str  #: the line, stripped and shortened
    reason: str
    name: str | None = None  #: the canonical distribution it names, when it names one

    def describe(self) -> str:
        return f"line {self.line} `{self.text}` ({self.reason})"


@dataclass(frozen=True, slots=True)
class Pins:
    """What a requirements file says about each distribution."""

    source: str  #: the file as the user named it
    specifiers: tuple[tuple[str, str], ...] = ()  #: (canonical name, specifier like "==3.4.2"), sorted by name
    ignored: tuple[Ignored, ...] = ()

    def specifier(self, name: str) -> str | None:
        """The file's specifier for the canonical distribution `name` ("==3.4.2", ">=2"), None when it has none."""
        return dict(self.specifiers).get(name)

    def pinned(self, name: str) -> bool:
        spec = self.specifier(name)
        return spec is not None and _exact(spec)

    def why_unpinned(self, name: str) -> str:
        """Why `name` has no exact pin: the file's range, the ignored lines that name it, the includes not read."""
        spec = self.specifier(name)
        reasons = [f"it gives only `{name}{spec}`" if spec else f"it does not name {name}"]
        related = [i.describe() for i in self.ignored if i.name == name or i.reason.startswith("includes")]
        if related:
            reasons.append("ignored: " + "; ".join(related[:3]) + (" ..." if len(related) > 3 else ""))
        return ", ".join(reasons)

    @property
    def key(self) -> str:
        """A digest of what the pins change in the output (for the manifest's settings)."""
        return hashlib.sha256(repr(self.specifiers).encode("utf-8")).hexdigest()


def _exact(spec: str) -> bool:
    return spec.startswith("==") and "," not in spec and "*" not in spec


def parse_pins(text: str, source: str) -> Pins:
    """The pins of a requirements/constraints file's text; never fails (unusable lines are ignored)."""
    specifiers: dict[str, str] = {}
    ignored: list[Ignored] = []
    for count, (number, raw) in enumerate(_logical_lines(text), start=1):
        if count > MAX_LINES:
            ignored.append(Ignored(number, "...", f"the file has more than {MAX_LINES} lines; the rest is not read"))
            break
        line = _strip_comment(raw).strip()
        if not line:
            continue
        shown = line if len(line) <= 80 else line[:77] + "..."
        if len(line) > MAX_LINE:
            ignored.append(Ignored(number, shown, "too long"))
            continue
        if line.startswith(("-r", "--requirement", "-c", "--constraint")):
            ignored.append(Ignored(number, shown, "includes another file, which is not read"))
            continue
        if line.startswith("-"):
            ignored.append(Ignored(number, shown, "a pip option"))
            continue
        try:
            requirement = Requirement(_LINE_OPTION.split(line, maxsplit=1)[0])
        except InvalidRequirement:
            ignored.append(Ignored(number, shown, "not a requirement (a path or URL?)"))
            continue
        name = canonical(requirement.name)
        if requirement.url:
            ignored.append(Ignored(number, shown, "a URL, not a version", name))
            continue
        if requirement.marker is not None:
            try:
                applies = requirement.marker.evaluate(dict(WORKER_MARKERS))
            except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName, ValueError):
                ignored.append(Ignored(number, shown, "a marker that cannot be evaluated for the workers", name))
                continue
            if not applies:
                ignored.append(Ignored(number, shown, "its marker does not hold on the workers", name))
                continue
        spec = str(requirement.specifier)
        if not spec:
            ignored.append(Ignored(number, shown, "no version", name))
            continue
        if name in specifiers and specifiers[name] != spec:
            ignored.append(Ignored(number, shown, f"named again; the first line's {specifiers[name]} is kept", name))
            continue
        specifiers[name] = spec
    return Pins(source, tuple(sorted(specifiers.items())), tuple(ignored))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """The file's lines with backslash continuations joined (pip does the same), each with its first line's number."""
    lines: list[tuple[int, str]] = []
    pending, first = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        first = first or number
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            pending += raw[:-1]
            continue
        lines.append((first, pending + raw))
        pending, first = "", 0
    if pending:
        lines.append((first, pending))
    return lines


def _strip_comment(line: str) -> str:
    """Text before a comment: `#` at the start or after whitespace (as pip reads it)."""
    if line.lstrip().startswith("#"):
        return ""
    for index, char in enumerate(line):
        if char == "#" and index > 0 and line[index - 1] in " \t":
            return line[:index]
    return line


__all__ = ["Ignored", "Pins", "WORKER_MARKERS", "parse_pins"]
