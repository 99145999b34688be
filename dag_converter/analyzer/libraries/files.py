"""Paths and files of the DAG folder, read statically: `__file__`-based paths (os.path, pathlib),
data files (`json.load`, `yaml.safe_load`, `Path.read_text`, `open().read()`), and the pure text
helpers DAG files build values with (`json.dumps`, `textwrap.dedent`).

A path is the text Python would hold, relative paths being below the DAG folder root (`__file__`
is the file's path below it). A file is read only when it is a regular file inside the root (never
through a symlink leaving it), no larger than `Limits.file_bytes`, and only as data: JSON or YAML
(safe loader) or text, never code. Every read is charged to the Meter. Anything else is
`Unresolved` with the reason, at the line that reads it.
"""

from __future__ import annotations

import json
import posixpath
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import libcst as cst
import yaml

from dag_converter.analyzer.builtins import plain
from dag_converter.analyzer.imports import Symbol
from dag_converter.analyzer.interpreter import BaseLibrary
from dag_converter.analyzer.values import CallArgs, OpenFile, PathValue, Unresolved, first_unresolved
from dag_converter.model import find_unresolved


@dataclass(frozen=True, slots=True)
class _Method:
    """A method of a path or an open file, bound to it, waiting for its call."""

    target: PathValue | OpenFile
    name: str


_PATH_CLASSES: Final = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath"})
_SAFE_LOADERS: Final = frozenset({"yaml.SafeLoader", "yaml.CSafeLoader", "yaml.loader.SafeLoader"})
_JSON_DUMPS_OPTIONS: Final = frozenset({"indent", "sort_keys", "separators", "ensure_ascii"})
#: Path methods that return the path itself for what the analysis knows of it (relative paths are
#: below the DAG folder root, where Airflow's absolute `__file__` points).
_SAME_PATH: Final = frozenset({"resolve", "absolute", "expanduser"})


def _text(value: object) -> str | None:
    if isinstance(value, PathValue):
        return value.path
    return value if isinstance(value, str) else None


def _normal(path: str) -> str:
    normal = posixpath.normpath(path) if path else ""
    return "" if normal == "." else normal


class FilesLibrary(BaseLibrary):
    """os.path, pathlib, open, json, yaml and textwrap, over the DAG folder's files."""

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if isinstance(func, _Method):
            return self._method(func, call, node)
        if not isinstance(func, Symbol):
            return NotImplemented
        handler = _FUNCTIONS.get(func.qualname)
        if handler is None:
            return NotImplemented
        bad = first_unresolved(call.everything())
        if bad is not None:
            return bad
        return handler(self, call, node)

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, OpenFile):
            return _Method(base, name)
        if not isinstance(base, PathValue):
            return NotImplemented
        path = base.path
        if name == "name":
            return posixpath.basename(path)
        if name == "suffix":
            return posixpath.splitext(posixpath.basename(path))[1]
        if name == "stem":
            return posixpath.splitext(posixpath.basename(path))[0]
        if name == "parent":
            return PathValue(_normal(posixpath.dirname(path)))
        if name == "parts":
            return tuple(part for part in path.split("/") if part)
        return _Method(base, name)

    def binary(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        if op != "Divide" or not (isinstance(left, PathValue) or isinstance(right, PathValue)):
            return NotImplemented
        parts = [_text(left), _text(right)]
        if None in parts:
            return NotImplemented
        return PathValue(_normal(posixpath.join(*parts)))  # type: ignore[arg-type]

    # -- calls ------------------------------------------------------------------------------------

    def _method(self, method: _Method, call: CallArgs, node: cst.Call) -> object:
        bad = first_unresolved(call.everything())
        if bad is not None:
            return bad
        target, name = method.target, method.name
        if isinstance(target, OpenFile):
            if name == "read" and not call.positional and not call.keywords:
                return self.read_text(target.path, node)
            if name == "readlines" and not call.positional and not call.keywords:
                text = self.read_text(target.path, node)
                return text if isinstance(text, Unresolved) else text.splitlines(keepends=True)
            return self.interpreter.unresolved(node, f"method {name}() of an open file")
        path = target.path
        args = call.positional
        if name in _SAME_PATH and not args:
            return target
        if name == "as_posix" and not args:
            return path
        if name == "joinpath" and all(_text(a) is not None for a in args):
            return PathValue(_normal(posixpath.join(path, *(_text(a) for a in args))))  # type: ignore[misc]
        if name == "with_suffix" and len(args) == 1 and isinstance(args[0], str):
            return PathValue(posixpath.splitext(path)[0] + args[0])
        if name == "with_name" and len(args) == 1 and isinstance(args[0], str):
            return PathValue(_normal(posixpath.join(posixpath.dirname(path), args[0])))
        if name == "read_text" and not args:
            return self.read_text(path, node)
        if name == "open" and _reads_text(args[0] if args else call.keywords.get("mode", "r")):
            return OpenFile(path, node)
        if name in ("exists", "is_file") and not args:
            return self.exists(path, node)
        return self.interpreter.unresolved(node, f"method {name}() of a path")

    def read_text(self, path: str, node: cst.CSTNode) -> str | Unresolved:
        """The text of a file below the DAG folder root, charged to the Meter; else Unresolved."""
        interpreter = self.interpreter
        if interpreter.imports is None:
            return interpreter.unresolved(node, f"file {path!r} is read when the DAG file runs, and no DAG folder "
                                                "is known to read it from")
        limit = interpreter.limits.file_bytes
        data = interpreter.imports.folder.read_data(_normal(path), limit)
        if isinstance(data, str):
            return interpreter.unresolved(node, f"data file: {data}")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return interpreter.unresolved(node, f"data file {path!r} is not UTF-8 text ({exc.reason})")
        interpreter.meter.allocate(len(text), len(text) >> 8, node)
        return text.replace("\r\n", "\n")

    def exists(self, path: str, node: cst.CSTNode) -> bool | Unresolved:
        interpreter = self.interpreter
        if interpreter.imports is None:
            return interpreter.unresolved(node, f"whether {path!r} exists is known when the DAG file runs")
        data = interpreter.imports.folder.read_data(_normal(path), interpreter.limits.file_bytes)
        if isinstance(data, bytes):
            return True
        if "does not exist" in data:
            return False
        return interpreter.unresolved(node, f"data file: {data}")

    def parsed(self, text: object, node: cst.CSTNode, what: str, parse: Callable[[str], object]) -> object:
        """Data parsed from `text` (a str, or an open file's content), charged, plain values only."""
        if isinstance(text, OpenFile):
            text = self.read_text(text.path, node)
        if isinstance(text, Unresolved):
            return text
        if not isinstance(text, str):
            return self.interpreter.unresolved(node, f"{what} of a {type(text).__name__}")
        try:
            value = parse(text)
        except (ValueError, yaml.YAMLError, RecursionError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return self.interpreter.unresolved(node, f"{what}: the data is not valid ({first})")
        self.interpreter.meter.visit(value, what, node)
        if not plain(value):
            return self.interpreter.unresolved(node, f"{what}: the data holds values other than strings, numbers, "
                                                     "booleans, null, lists and mappings")
        return value


def _reads_text(mode: object) -> bool:
    return isinstance(mode, str) and set(mode) <= {"r", "t"}


def _os_path(function: Callable[..., object]) -> Callable[[FilesLibrary, CallArgs, cst.Call], object]:
    def handler(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
        texts = [_text(a) for a in call.positional]
        if call.keywords or None in texts:
            return library.interpreter.unresolved(node, "an os.path function of a value that is not a path")
        return function(*texts)

    return handler


def _path(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
    texts = [_text(a) for a in call.positional]
    if call.keywords or None in texts:
        return library.interpreter.unresolved(node, "Path() of a value that is not a path")
    return PathValue(_normal(posixpath.join(*texts)) if texts else "")  # type: ignore[arg-type]


def _open(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
    args = call.positional
    path = _text(args[0]) if args else None
    mode = args[1] if len(args) > 1 else call.keywords.get("mode", "r")
    extra = set(call.keywords) - {"mode", "encoding"}
    if path is None or extra or len(args) > 2 or not _reads_text(mode):
        return library.interpreter.unresolved(node, "open() other than reading a text file of the DAG folder")
    return OpenFile(path, node)


def _json_dumps(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
    if len(call.positional) != 1 or set(call.keywords) - _JSON_DUMPS_OPTIONS:
        return library.interpreter.unresolved(node, "json.dumps() with options other than "
                                                    + ", ".join(sorted(_JSON_DUMPS_OPTIONS)))
    value = call.positional[0]
    library.interpreter.meter.visit(value, "json.dumps()", node)
    if not plain(value):
        # An unknown value inside is the cause, said where it is; else an object JSON cannot hold.
        return find_unresolved(value) or library.interpreter.unresolved(
            node, "json.dumps() of a value holding non-literal objects")
    try:
        text = json.dumps(value, **call.keywords)  # type: ignore[arg-type]
    except (TypeError, ValueError, RecursionError) as exc:
        return library.interpreter.unresolved(node, f"json.dumps(): {exc}")
    library.interpreter.meter.built(text, node)
    return text


def _json_loads(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
    if len(call.positional) != 1 or call.keywords:
        return library.interpreter.unresolved(node, "json.load() with options")
    return library.parsed(call.positional[0], node, "json.load()", json.loads)


def _yaml_safe_load(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
    if len(call.positional) != 1 or call.keywords:
        return library.interpreter.unresolved(node, "yaml.safe_load() with options")
    return library.parsed(call.positional[0], node, "yaml.safe_load()", yaml.safe_load)


def _yaml_load(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
    """`yaml.load(x, Loader=yaml.SafeLoader)` only: other loaders build Python objects."""
    loader = call.keywords.get("Loader", call.positional[1] if len(call.positional) == 2 else None)
    if not call.positional or len(call.positional) > 2 or set(call.keywords) - {"Loader"} \
            or not (isinstance(loader, Symbol) and loader.qualname in _SAFE_LOADERS):
        return library.interpreter.unresolved(node, "yaml.load() without the safe loader")
    return library.parsed(call.positional[0], node, "yaml.safe_load()", yaml.safe_load)


def _dedent(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
    if len(call.positional) != 1 or call.keywords or not isinstance(call.positional[0], str):
        return library.interpreter.unresolved(node, "textwrap.dedent() of a value that is not a string")
    library.interpreter.meter.visit(call.positional[0], "textwrap.dedent()", node)
    return textwrap.dedent(call.positional[0])


def _path_exists(library: FilesLibrary, call: CallArgs, node: cst.Call) -> object:
    path = _text(call.positional[0]) if len(call.positional) == 1 and not call.keywords else None
    if path is None:
        return library.interpreter.unresolved(node, "os.path.exists() of a value that is not a path")
    return library.exists(path, node)


def _splitext(path: str) -> tuple[str, str]:
    return posixpath.splitext(path)


_FUNCTIONS: Final[dict[str, Callable[[FilesLibrary, CallArgs, cst.Call], object]]] = {
    "os.path.basename": _os_path(posixpath.basename),
    "os.path.dirname": _os_path(lambda p: _normal(posixpath.dirname(p)) if posixpath.dirname(p) else ""),
    "os.path.join": _os_path(posixpath.join),
    "os.path.splitext": _os_path(_splitext),
    "os.path.split": _os_path(posixpath.split),
    "os.path.normpath": _os_path(_normal),
    "os.path.abspath": _os_path(_normal),
    "os.path.realpath": _os_path(_normal),
    "os.path.exists": _path_exists,
    "os.path.isfile": _path_exists,
    "os.fspath": _os_path(lambda p: p),
    **{name: _path for name in _PATH_CLASSES},
    "open": _open,
    "builtins.open": _open,
    "io.open": _open,
    "json.dumps": _json_dumps,
    "json.load": _json_loads,
    "json.loads": _json_loads,
    "yaml.safe_load": _yaml_safe_load,
    "yaml.load": _yaml_load,
    "textwrap.dedent": _dedent,
}

__all__ = ["FilesLibrary"]
