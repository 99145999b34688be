"""The interpreter's abstract domain: the values a DAG file's code computes, and what it may cost.

Values are plain Python data (str, int, float, bool, None, list, tuple, dict, set) mutated in
place like Python does, the model's typed values (DateTime, Duration, XComRef, CallableRef,
ObjectValue), the interpreter's own objects below, and library objects (DAG builders, ...).

Anything not statically known is ONE type, `model.Unresolved`: a reason, the span where it
arose, and `source` when it is read from the outside world at run time (Variable.get, os.environ).
It absorbs operations like astroid's `Uninferable`: an operation on an Unresolved operand returns
that operand unchanged (`absorbing`, `first_unresolved`), so the first reason and place survive.

`Limits` and `Meter` are the cost model: every operation charges work in proportion to what it
does, and values, allocations and products (tasks, edges, DAGs) are bounded per file. Exceeding a
limit raises `Budget` at the node that exceeded it; the file is refused with one DC108 line.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Final, TypeVar

import libcst as cst

from dag_converter.model import RuntimeRead, Span, Unresolved

RunRead = RuntimeRead  #: the model's record of one run-time read

# ---------------------------------------------------------------------------------------------
# Unknown values


def runtime_read(source: str, span: Span) -> Unresolved:
    """A value the file reads from the outside world when it runs (Variable.get, os.environ, ...)."""
    return Unresolved(f"read at run time ({source})", span, source=source)


def why(value: Unresolved) -> str:
    """The reason a value is unknown, as diagnostics phrase it."""
    return f"reads {value.source}" if value.source else value.reason


def first_unresolved(values: Iterable[object]) -> Unresolved | None:
    """The first Unresolved among `values`, or None: what an operation on them returns."""
    for value in values:
        if type(value) is Unresolved:
            return value
    return None


F = TypeVar("F", bound=Callable[..., object])


def absorbing(handler: F) -> F:
    """A handler `(interpreter, args, kwargs, node)` that returns the first Unresolved argument
    unchanged instead of running (astroid's absorbing Uninferable, keeping reason and span)."""

    @wraps(handler)
    def absorb(interpreter: object, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
        bad = first_unresolved(args) or first_unresolved(kwargs.values())
        if bad is not None:
            return bad
        return handler(interpreter, args, kwargs, node)

    return absorb  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Interpreter objects


@dataclass
class Scope:
    """Variables of a module or of one call of an interpreted function."""

    values: dict[str, object] = field(default_factory=dict)
    parent: "Scope | None" = None
    globals_names: set[str] = field(default_factory=set)

    def lookup(self, name: str) -> tuple[bool, object]:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return True, scope.values[name]
            scope = scope.parent
        return False, None

    def root(self) -> "Scope":
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def assign(self, name: str, value: object) -> None:
        if name in self.globals_names:
            self.root().values[name] = value
        else:
            self.values[name] = value


@dataclass
class UserFunction:
    """A function defined in the DAG file (or a DAG-folder module); calling it interprets its body."""

    node: cst.FunctionDef | cst.Lambda
    scope: Scope
    name: str
    defaults: dict[str, object]

    def parameter_names(self) -> list[str] | None:
        """Names of the parameters a call can bind (None for a lambda)."""
        if not isinstance(self.node, cst.FunctionDef):
            return None
        params = self.node.params
        return [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]


@dataclass
class BoundMethod:
    """`value.name` for a str, list, dict, tuple or set: called through builtins.METHODS."""

    target: object
    name: str


@dataclass
class DictView:
    """`d.keys()`, `d.values()`, `d.items()`: a live view, listed when iterated."""

    target: dict[object, object]
    kind: str

    def items_list(self) -> list[object]:
        if self.kind == "keys":
            return list(self.target.keys())
        if self.kind == "values":
            return list(self.target.values())
        return [tuple(item) for item in self.target.items()]


@dataclass(frozen=True)
class TimeZone:
    """`pendulum.timezone("Europe/Paris")`, `ZoneInfo(...)`: a zone by its IANA name."""

    name: str


@dataclass(eq=False)
class ModuleValue:
    """A module of the DAG folder, bound by `import common` or `from common import settings`."""

    name: str


@dataclass(frozen=True)
class Opaque:
    """A value with no effect on the DAG (a logger, what print() returns)."""

    what: str


@dataclass(frozen=True)
class Builtin:
    """A builtin function the interpreter runs itself (`len`, `sorted`, ..., `globals`)."""

    name: str


@dataclass
class CallArgs:
    """A call's arguments once evaluated: `*` spread into `positional`, `**` into `keywords`.

    An unknown `**mapping` is not planted in `keywords`: it is `unknown_keywords`."""

    positional: list[object] = field(default_factory=list)
    keywords: dict[str, object] = field(default_factory=dict)
    nodes: dict[str, cst.Arg] = field(default_factory=dict)  #: the argument node of each keyword
    unknown_keywords: Unresolved | None = None

    def everything(self) -> list[object]:
        extra = [self.unknown_keywords] if self.unknown_keywords is not None else []
        return [*self.positional, *self.keywords.values(), *extra]


class OpenDicts:
    """Dicts updated with a mapping the interpreter cannot know (`d.update(Variable.get(...))`).

    Their known entries stay readable; the unknown part is remembered here, beside the dict (never
    as a key inside it), and spreads to copies. Keyed by identity; the dict is held so that an id
    is never reused while the entry lives."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[dict[object, object], Unresolved]] = {}

    def mark(self, mapping: dict[object, object], unknown: Unresolved) -> None:
        self._open.setdefault(id(mapping), (mapping, unknown))

    def unknown_part(self, value: object) -> Unresolved | None:
        if not self._open or type(value) is not dict:
            return None
        entry = self._open.get(id(value))
        return entry[1] if entry is not None else None

    def copy_to(self, source: object, target: dict[object, object]) -> None:
        unknown = self.unknown_part(source)
        if unknown is not None:
            self.mark(target, unknown)


# ---------------------------------------------------------------------------------------------
# Control flow of interpreted code


class Return(Exception):
    """`return` inside an interpreted function."""

    def __init__(self, value: object) -> None:
        self.value = value


class Break(Exception):
    """`break` inside an interpreted loop."""


class Continue(Exception):
    """`continue` inside an interpreted loop."""


LoopControl: Final = (Break, Continue)


# ---------------------------------------------------------------------------------------------
# The cost model


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file's analysis may cost and produce. The defaults sit far above any real DAG
    folder (no file of the test corpus uses 1% of any of them) and stop hostile input within a
    few seconds and about 300 MB. `pyproject.toml`'s [tool.dag-converter] may set them later."""

    #: Work units per file. An evaluated expression, a statement or a loop turn costs 1 (about a
    #: microsecond); bulk work costs 1 per 8 elements it builds, 1 per 4 it visits, and 1 per 256
    #: characters. 2,000,000 (the step budget before the cost model) is a few seconds at most;
    #: the busiest file of the test corpus uses 14,286 (0.7%).
    work: int = 2_000_000
    #: Characters of one string; elements of one list, tuple, dict or set, nested elements
    #: counted each time they are reachable (a shared inner list counts once per reference).
    value_size: int = 1_000_000
    #: Bytes of values a file may build in total (strings by length, containers 8 bytes a slot),
    #: counted when built, never given back: bounds the memory live values can take.
    memory: int = 256_000_000
    int_bits: int = 100_000  #: bits of one integer
    format_width: int = 10_000  #: a width or precision in a format spec, the fill width of str methods
    call_depth: int = 40  #: nested calls of functions defined in the DAG folder
    dags: int = 5_000  #: DAGs one file may define
    tasks: int = 50_000  #: tasks one file may define, over all its DAGs
    edges: int = 500_000  #: dependency edges one file may set (each `a >> b` pair counts)
    yaml_bytes: int = 64_000_000  #: YAML one DAG may emit (checked by the pipeline after emit)
    file_bytes: int = 5 * 1024 * 1024  #: bytes of one data or template file read from the DAG folder


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class RunValues:
    """Values the user chose to freeze for run-time reads (--var, --env): Airflow Variables and
    environment variables by name. Each use is reported, naming the frozen value."""

    variables: tuple[tuple[str, str], ...] = ()
    environment: tuple[tuple[str, str], ...] = ()

    def variable(self, name: str) -> str | None:
        return dict(self.variables).get(name)

    def env(self, name: str) -> str | None:
        return dict(self.environment).get(name)


@dataclass(frozen=True, slots=True)
class PathValue:
    """A `pathlib.Path`, by its '/'-separated text (relative paths are below the DAG folder root)."""

    path: str

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True, slots=True)
class OpenFile:
    """A file of the DAG folder opened for reading text: `open(path)`, `Path.open()`."""

    path: str
    node: cst.CSTNode = field(compare=False, repr=False)

COLLECT_EVERY: Final = 1 << 16  #: work units between garbage collections while automatic collection is off
_CONTAINERS: Final = (list, tuple, dict, set, frozenset)
_CONTAINER_TYPES: Final = frozenset(_CONTAINERS)


class Budget(Exception):
    """A file needs more than its Limits allow; it is refused at `span` with `detail`."""

    def __init__(self, detail: str, span: Span, open_regions: tuple[object, ...] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.span = span
        self.open_regions = open_regions  #: the definitions (DAGs) open when the limit was reached


class Meter:
    """Counts one file's work, memory and products against its Limits.

    Counting is in bulk: an operation charges once, from the sizes Python already knows (len,
    bit_length), never per character or element in Python code."""

    def __init__(self, limits: Limits, where: Callable[[cst.CSTNode], Span],
                 open_regions: Callable[[], tuple[object, ...]] = tuple) -> None:
        self.limits = limits
        self.where = where  #: the span of a node, for the diagnostic
        self.open_regions = open_regions  #: what was open when a limit is reached, for the Budget
        self.work = 0
        self.memory = 0
        self.dags = 0
        self.tasks = 0
        self.edges = 0
        self._checkpoint = COLLECT_EVERY

    def refuse(self, detail: str, node: cst.CSTNode) -> Budget:
        return Budget(detail, self.where(node), self.open_regions())

    def tick(self, node: cst.CSTNode, cost: int = 1) -> None:
        """Charge `cost` work units; every COLLECT_EVERY units, check the limit and collect."""
        self.work += cost
        if self.work > self._checkpoint:
            self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        if self.work > self.limits.work:
            raise self.refuse(f"analysis stopped after {self.limits.work} units of work "
                              "(an endless or very long loop, or operations on very large values?)", node)
        # pipeline.py turns automatic garbage collection off while a file is analysed: it found
        # little to free there and cost a tenth of the time. A long evaluation frees its cyclic
        # garbage (the tracebacks of `return` and `continue`) here instead, so memory stays flat.
        if not gc.isenabled():
            gc.collect(1)
        self._checkpoint = min(self.limits.work, self.work + COLLECT_EVERY)

    # -- values ---------------------------------------------------------------------------------

    def built(self, value: object, node: cst.CSTNode) -> object:
        """`value`, just built by an operation: refused when larger than one value may be, else its
        memory and the work of building it are charged."""
        kind = type(value)
        if kind is str:
            size = len(value)  # type: ignore[arg-type]
            if size > self.limits.value_size:
                raise self.refuse(f"a string of {size} characters is too large to analyse "
                                  f"(limit {self.limits.value_size})", node)
            if size > 256:
                self.allocate(size, size >> 8, node)
        elif kind in _CONTAINER_TYPES:
            size = len(value)  # type: ignore[arg-type]
            if size > self.limits.value_size:
                raise self.refuse(f"a {kind.__name__} of {size} items is too large to analyse "
                                  f"(limit {self.limits.value_size})", node)
            if size > 16:
                self.allocate(size * 8, size >> 3, node)
        elif kind is int:
            bits = value.bit_length()  # type: ignore[attr-defined]
            if bits > self.limits.int_bits:
                raise self.refuse(f"an integer of {bits} bits is too large to analyse "
                                  f"(limit {self.limits.int_bits})", node)
        return value

    def before_building(self, size: int, what: str, node: cst.CSTNode) -> None:
        """Refuse an operation before it builds a value of `size` items or characters."""
        if size > self.limits.value_size:
            raise self.refuse(f"{what} builds a value of {size} items or characters, too large to analyse "
                              f"(limit {self.limits.value_size})", node)

    def allocate(self, size: int, work: int, node: cst.CSTNode) -> None:
        self.memory += size
        if self.memory > self.limits.memory:
            raise self.refuse(f"the values this file builds take more than {self.limits.memory} bytes", node)
        if work:
            self.tick(node, work)

    def visit(self, value: object, what: str, node: cst.CSTNode) -> int:
        """Charge an operation that visits every element reachable from `value` (a comparison,
        `in`, sort, join, copy, str() or emitting it); refuse when more are reachable than one value
        may hold. Shared references count once per reference, as the operation visits them."""
        kind = type(value)
        if kind is str:
            size = len(value)  # type: ignore[arg-type]
            if size > 4096:
                self.tick(node, size >> 8)
            return size
        if kind not in _CONTAINER_TYPES:
            return 1
        size = reachable(value, self.limits.value_size)
        if size > self.limits.value_size:
            raise self.refuse(f"{what} visits more than {self.limits.value_size} nested items "
                              "(a value built from shared references?)", node)
        if size > 16:
            self.tick(node, size >> 2)
        return size

    # -- products ---------------------------------------------------------------------------------

    def new_dag(self, node: cst.CSTNode) -> None:
        self.dags += 1
        if self.dags > self.limits.dags:
            raise self.refuse(f"the file defines more than {self.limits.dags} DAGs", node)

    def new_task(self, node: cst.CSTNode) -> None:
        self.tasks += 1
        if self.tasks > self.limits.tasks:
            raise self.refuse(f"the file defines more than {self.limits.tasks} tasks", node)

    def new_edges(self, count: int, node: cst.CSTNode) -> None:
        self.edges += count
        if self.edges > self.limits.edges:
            raise self.refuse(f"the file sets more than {self.limits.edges} dependencies", node)
        if count > 16:
            self.tick(node, count >> 4)


def reachable(value: object, stop: int) -> int:
    """Elements reachable from a container, each reference counted (what a deep comparison or a
    copy visits), computed once per distinct container; stops counting above `stop`."""
    sizes: dict[int, int] = {}

    def size_of(container: object) -> int:
        known = sizes.get(id(container))
        if known is not None:
            return known
        sizes[id(container)] = 0  # a container that holds itself counts its own items once
        items: Iterable[object]
        if type(container) is dict:
            items = [*container.keys(), *container.values()]  # type: ignore[attr-defined]
        else:
            items = container  # type: ignore[assignment]
        total = len(items)  # type: ignore[arg-type]
        # Bulk: the element types, found in C; only nested containers are walked.
        if not _CONTAINER_TYPES.isdisjoint(set(map(type, items))):
            for item in items:
                if type(item) in _CONTAINER_TYPES:
                    total += size_of(item)
                    if total > stop:
                        break
        sizes[id(container)] = total
        return total

    return size_of(value)


def is_container(value: object) -> bool:
    return type(value) in _CONTAINER_TYPES


__all__ = [
    "Break", "BoundMethod", "Budget", "Builtin", "CallArgs", "Continue", "DEFAULT_LIMITS", "DictView", "Limits",
    "LoopControl", "Meter", "ModuleValue", "Opaque", "OpenDicts", "Return", "Scope", "TimeZone", "Unresolved",
    "UserFunction", "absorbing", "first_unresolved", "reachable", "runtime_read", "why",
]
