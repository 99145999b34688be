"""What a task's code needs, found statically: the closure of a callable in the DAG file and its folder.

`collect()` reads the DAG file's source and the modules of the DAG folder it imports; it never imports
or runs any of them. For each reference (a task's `python_callable`, a TaskFlow function, a custom
operator class) it returns the pieces of the DAG file the generated module must carry (functions,
classes, module-level constants and imports, transitively, decorators, default values and base classes
included), the folder modules to ship whole (transitively), the imports from outside the folder (for
requirements.txt), and a diagnostic for each part that cannot be shipped, at its line.

Names are resolved with libcst's ScopeProvider (LibCST's own scoping rules: globals, nonlocals,
comprehension and class scopes), once per DAG file that needs a package.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import libcst as cst
from libcst.metadata import (
    Assignment,
    BaseAssignment,
    BuiltinAssignment,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)

from dag_converter import codes
from dag_converter.analyzer import dotted_name as _dotted, nesting_problem
from dag_converter.codepackage._environment import Environment, shipped
from dag_converter.codepackage._root import DEFAULT_MAX_FILE_SIZE, FolderRoot
from dag_converter.model import Diagnostic, Span

if TYPE_CHECKING:
    from dag_converter.storage.base import FolderFiles


def _is_airflow_decorator(qualified: str, name: str) -> bool:
    """`airflow.<module>.task` or `airflow.<module>.task.<kind>` (any module that re-exports it:
    airflow.sdk, airflow.decorators, airflow.providers.common.compat.sdk, ...); likewise `dag`."""
    parts = qualified.split(".")
    if parts[0] != "airflow" or name not in parts[1:]:
        return False
    last = len(parts) - 1 - parts[::-1].index(name)
    return len(parts) - last <= 2

# Module-level values read from the environment, Airflow's metadata, files or the clock: a name
# assigned from one of these is known only at run time (qualified-name prefixes).
_RUNTIME_SOURCES: Final = (
    "os.environ", "os.environb", "os.getenv", "os.getcwd", "os.listdir", "os.scandir", "os.walk",
    "builtins.open", "builtins.input", "io.open", "glob.", "shutil.",
    "airflow.models.Variable", "airflow.models.variable.", "airflow.sdk.Variable", "airflow.sdk.definitions.variable",
    "airflow.models.Connection", "airflow.models.connection.", "airflow.sdk.Connection",
    "airflow.hooks.base.BaseHook", "airflow.sdk.BaseHook", "airflow.configuration.", "airflow.settings.",
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
    "time.time", "time.monotonic", "time.perf_counter", "pendulum.now", "pendulum.today",
    "random.", "uuid.uuid1", "uuid.uuid4", "secrets.", "socket.", "subprocess.", "requests.", "urllib.request.",
    "getpass.", "platform.node", "tempfile.", "sys.argv", "boto3.", "botocore.",
)
_FILE_READ_METHODS: Final = frozenset({"read_text", "read_bytes", "open", "read", "readlines", "iterdir", "glob"})
_BUILTINS: Final = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__", "__spec__", "__builtins__"}


@dataclass(frozen=True, slots=True)
class Reference:
    """Something a task names and the package must provide."""

    task_id: str
    name: str  #: a name defined in (or imported into) the DAG file, or a dotted `module.attribute`
    span: Span | None = None  #: where the task names it (the DAG file's diagnostics point here)
    taskflow: bool = False  #: a TaskFlow function: its @task decorator is left out
    role: str = "callable"  #: what the task uses it as ("python_callable", "operator class", ...), for reasons


@dataclass(frozen=True, slots=True)
class Definition:
    """A statement of the DAG file the generated module carries."""

    name: str  #: the name it binds
    kind: str  #: "import" | "function" | "class" | "constant"
    code: str  #: its source as written in the generated module
    line: int  #: in the DAG file
    reason: str  #: why it is there


@dataclass(frozen=True, slots=True)
class FolderModule:
    """A module of the DAG folder, shipped as its whole source file."""

    module: str  #: dotted name ("helpers.sql")
    path: str  #: POSIX path relative to the DAG folder ("helpers/sql.py")
    reason: str


@dataclass(frozen=True, slots=True)
class ExternalImport:
    """An import of a module from outside the DAG folder (the standard library excluded)."""

    module: str  #: dotted, as imported
    distribution: str | None  #: the distribution providing it, by the environment table
    span: Span
    optional: bool = False  #: inside `try: ... except ImportError`


@dataclass(frozen=True, slots=True)
class Resolved:
    """How the YAML names a reference: `module.attribute`; module None means the generated module."""

    task_id: str
    name: str  #: as requested
    module: str | None
    attribute: str
    stripped_decorators: tuple[str, ...] = ()  #: e.g. ("@task", "@task.branch"), source text

    def dotted(self, generated_module: str) -> str:
        return f"{self.module or generated_module}.{self.attribute}"


@dataclass(frozen=True, slots=True)
class Closure:
    """Everything `collect()` found."""

    definitions: tuple[Definition, ...] = ()  #: in source order
    modules: tuple[FolderModule, ...] = ()  #: sorted by path
    imports: tuple[ExternalImport, ...] = ()  #: sorted by module
    resolved: tuple[Resolved, ...] = ()  #: in request order; refused references are missing
    diagnostics: tuple[Diagnostic, ...] = ()
    future_annotations: bool = False  #: the DAG file has `from __future__ import annotations`


class _Refused(Exception):
    """A part that cannot be shipped; carries its diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def collect(source: str, path: str, root: "Path | FolderFiles", references: Sequence[Reference], *,
            dag_file: str | None = None, max_file_size: int = DEFAULT_MAX_FILE_SIZE,
            environment: Environment | None = None) -> Closure:
    """The closure of `references` in the DAG file `source` (shown as `path`) and the DAG folder `root`.

    `dag_file` is the DAG file's POSIX path relative to `root` when it lies inside it (used for its
    own module name); nothing is read outside `root`, through a link, or above `max_file_size` bytes.
    """
    too_complex = nesting_problem(source)  # libcst's native parser overflows its stack on deep nesting
    if too_complex is not None:
        return Closure(diagnostics=(codes.make(codes.INPUT_TOO_COMPLEX, Span(path, too_complex[0], 1),
                                               detail=too_complex[1]),))
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        span = Span(path, exc.raw_line, exc.raw_column + 1)
        return Closure(diagnostics=(codes.make(codes.SYNTAX_ERROR, span, detail=exc.message),))
    collector = _Collector(module, path, FolderRoot(root, max_file_size), environment or shipped(), dag_file)
    for reference in references:
        try:
            collector.add_reference(reference)
        except _Refused as refused:
            collector.diagnostics.append(refused.diagnostic)
    return collector.result()


# --------------------------------------------------------------------------------------------------


def _walk(node: cst.CSTNode, skip: frozenset[int] = frozenset()) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in skip:
            continue
        yield current
        stack.extend(reversed(current.children))


def _parents(tree: cst.CSTNode) -> dict[int, cst.CSTNode]:
    """Each node's parent, by the child's id."""
    parents: dict[int, cst.CSTNode] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in node.children:
            parents[id(child)] = node
            stack.append(child)
    return parents


def _module_of_import(node: cst.ImportFrom) -> str:
    return _dotted(node.module) or "" if node.module is not None else ""


def _in_optional_try(parents: dict[int, cst.CSTNode], node: cst.CSTNode) -> bool:
    """True inside the body of a `try` that catches ImportError (an optional import)."""
    current = node
    while id(current) in parents:
        parent = parents[id(current)]
        if isinstance(parent, cst.Try) and current is parent.body:
            for handler in parent.handlers:
                caught = handler.type
                names = [_dotted(e.value) for e in caught.elements] if isinstance(caught, cst.Tuple) else [
                    _dotted(caught) if caught is not None else "Exception"]
                if any(n in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException") for n in names):
                    return True
        current = parent
    return False


class _Collector:
    def __init__(self, module: cst.Module, path: str, root: FolderRoot, environment: Environment,
                 dag_file: str | None) -> None:
        self.module = module
        self.path = path
        self.root = root
        self.env = environment
        self.dag_module = dag_file[:-3].replace("/", ".") if dag_file and dag_file.endswith(".py") else None
        #: folder modules are shown beside the DAG file: "dags/" + "helpers/x.py" when path is "dags/etl.py"
        self.display_root = path[: len(path) - len(dag_file)] if dag_file and path.endswith(dag_file) else ""
        # One batched traversal for both providers; parents come from a plain walk, which is cheaper.
        metadata = MetadataWrapper(module, unsafe_skip_copy=True).resolve_many([ScopeProvider, PositionProvider])
        self.scopes = metadata[ScopeProvider]
        self.positions = metadata[PositionProvider]
        self.parents = _parents(module)
        self.global_scope = self.scopes[module]
        assert isinstance(self.global_scope, GlobalScope)
        self.accesses = {}
        for scope in {s for s in self.scopes.values() if s is not None}:
            for access in scope.accesses:
                self.accesses[id(access.node)] = access
        self.star_import = any(isinstance(stmt, cst.ImportFrom) and isinstance(stmt.names, cst.ImportStar)
                               for line in module.body if isinstance(line, cst.SimpleStatementLine)
                               for stmt in line.body)
        self.future_annotations = any(
            isinstance(stmt, cst.ImportFrom) and _module_of_import(stmt) == "__future__"
            and not isinstance(stmt.names, cst.ImportStar) and any(a.evaluated_name == "annotations" for a in stmt.names)
            for line in module.body if isinstance(line, cst.SimpleStatementLine) for stmt in line.body)
        self.definitions: dict[int, Definition] = {}  #: by id of the statement/def node
        self.definition_order: dict[int, tuple[int, int]] = {}
        self.modules: dict[str, FolderModule] = {}
        self.imports: dict[tuple[str, str, int, int], ExternalImport] = {}
        self.resolved: list[Resolved] = []
        self.diagnostics: list[Diagnostic] = []
        self.parsed_folder: dict[str, cst.Module | None] = {}

    # -- positions -----------------------------------------------------------------------------

    def span(self, node: cst.CSTNode) -> Span:
        pos = self.positions.get(node)
        return Span(self.path, pos.start.line, pos.start.column + 1) if pos else Span(self.path)

    def line(self, node: cst.CSTNode) -> int:
        return self.span(node).line

    def refuse(self, code: codes.Code, node: cst.CSTNode | Span | None, **fields: object) -> _Refused:
        span = node if isinstance(node, Span) else self.span(node) if node is not None else Span(self.path)
        return _Refused(codes.make(code, span, **fields))

    # -- references ----------------------------------------------------------------------------

    def add_reference(self, ref: Reference) -> None:
        name = ref.name
        if self.dag_module and name.startswith(self.dag_module + "."):
            name = name[len(self.dag_module) + 1:]
        if name.endswith("<lambda>"):
            raise self.refuse(codes.LAMBDA_CALLABLE, ref.span, name=f"the callable of task {ref.task_id!r}")
        if ".<locals>." in name:
            name = name.rsplit(".", 1)[1]
        if "." in name and name.split(".", 1)[0] not in self.global_scope:
            self.add_dotted(ref, name)
            return
        if "." in name:  # `helpers.transform` where helpers is imported by the DAG file
            base, attribute = name.rsplit(".", 1)
            assignments = list(self.global_scope.assignments[base.split(".")[0]])
            if len(assignments) == 1 and isinstance(assignments[0], ImportAssignment):
                qualified = self.import_target(assignments[0], base.split(".")[0])
                if qualified is not None:
                    self.add_dotted(ref, qualified + base[len(base.split(".")[0]):] + "." + attribute)
                    return
            raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, ref.span, name=name,
                              reason="it is an attribute of a value, not of a module")
        assignments = list(self.global_scope.assignments[name])
        if not assignments:
            self.add_nested(ref, name)
            return
        if len(assignments) > 1 and ref.taskflow:
            # `extract = extract()` rebinds a TaskFlow function's name to its task's output; the task
            # was made from the one decorated def, which is what the package carries.
            defs = [a for a in assignments if isinstance(a.node, cst.FunctionDef)
                    and any(self.is_taskflow_decorator(d) for d in a.node.decorators)]
            assignments = defs if len(defs) == 1 else assignments
        if len(assignments) > 1:
            lines = ", ".join(str(n) for n in sorted(self.line(a.node) for a in assignments))
            raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, ref.span or assignments[0].node, name=name,
                              reason=f"it is bound {len(assignments)} times at module level (lines {lines})")
        assignment = assignments[0]
        node = assignment.node
        if isinstance(assignment, ImportAssignment):
            qualified = self.import_target(assignment, name)
            if qualified is None:
                raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, node, name=name, reason="a relative import in a DAG file")
            self.add_dotted(ref, qualified)
            return
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            stripped = self.add_definition(node, f"{ref.role} of task {ref.task_id!r}", strip_taskflow=ref.taskflow)
            self.resolved.append(Resolved(ref.task_id, ref.name, None, name, stripped))
            return
        statement = self.assigning_statement(node)
        if isinstance(statement, (cst.Assign, cst.AnnAssign)) and isinstance(statement.value, cst.Lambda):
            raise self.refuse(codes.LAMBDA_CALLABLE, node, name=name)
        raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, node, name=name,
                          reason="it is bound to the value of an expression, not defined with def or class")

    def add_nested(self, ref: Reference, name: str) -> None:
        """A function defined inside another function (a TaskFlow function in a @dag function)."""
        found = [n for n in _walk(self.module) if isinstance(n, cst.FunctionDef) and n.name.value == name]
        lambdas = [n for n in _walk(self.module) if isinstance(n, cst.Assign) and isinstance(n.value, cst.Lambda)
                   and any(isinstance(t.target, cst.Name) and t.target.value == name for t in n.targets)]
        if lambdas and not found:
            raise self.refuse(codes.LAMBDA_CALLABLE, lambdas[0], name=name)
        if len(found) != 1:
            reason = "it is not defined in the DAG file" if not found else f"{len(found)} nested functions have that name"
            raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, ref.span or (found[0] if found else None),
                              name=name, reason=reason)
        stripped = self.add_definition(found[0], f"{ref.role} of task {ref.task_id!r}", strip_taskflow=ref.taskflow)
        self.resolved.append(Resolved(ref.task_id, ref.name, None, name, stripped))

    def add_dotted(self, ref: Reference, dotted: str) -> None:
        """`module.attribute` from the DAG folder or an installed distribution."""
        module, _, attribute = dotted.rpartition(".")
        if not module:
            raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, ref.span, name=dotted, reason="it names no module")
        where = ref.span or Span(self.path)
        kind = self.classify(module)
        if kind == "folder":
            relative = self.folder_file(module)
            assert relative is not None
            self.add_folder_module(module, f"defines {attribute}, {ref.role} of task {ref.task_id!r}", where)
            tree = self.parsed_folder.get(module)
            if tree is not None and attribute not in _top_level_names(tree):
                raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, where, name=dotted,
                                  reason=f"{relative} defines no {attribute} at module level")
        elif kind == "external":
            self.add_external(module, where, optional=False)
        elif kind == "unknown":
            raise self.refuse(codes.UNSHIPPABLE_IMPORT, where, module=module)
        self.resolved.append(Resolved(ref.task_id, ref.name, module, attribute))

    # -- modules -------------------------------------------------------------------------------

    def classify(self, module: str) -> str:
        """"stdlib", "external" (a known distribution), "folder" or "unknown"; as sys.path orders them:
        the standard library and installed packages come before the DAG folder."""
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__":
            return "stdlib"
        distribution = self.env.distribution_for(module)
        if distribution is not None and self.env.is_preinstalled(distribution):
            return "external"
        if self.folder_file(module) is not None:
            return "folder"
        return "external" if distribution is not None else "unknown"

    def folder_file(self, module: str) -> str | None:
        parts = module.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        base = "/".join(parts)
        for candidate in (base + ".py", base + "/__init__.py"):
            if self.root.exists(candidate):  # a link or an oversized file is found, then refused when read
                return candidate
        if self.root.is_dir(base):
            return base  # a namespace package: a folder without __init__.py
        return None

    def add_external(self, module: str, where: Span, *, optional: bool) -> None:
        key = (module, where.path, where.line, where.column)
        self.imports.setdefault(key, ExternalImport(module, self.env.distribution_for(module), where, optional))

    def add_folder_module(self, module: str, reason: str, where: Span) -> None:
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):  # a package's __init__.py runs before its submodules
            name = ".".join(parts[:depth])
            if name in self.modules and depth == len(parts):
                known = self.modules[name]
                if reason not in known.reason.split("; "):  # one module, several uses: all are listed
                    self.modules[name] = FolderModule(name, known.path, f"{known.reason}; {reason}")
                continue
            if name in self.modules or name in self.parsed_folder:
                continue
            relative = self.folder_file(name)
            if relative is None or not relative.endswith(".py"):
                self.parsed_folder[name] = None
                continue
            why = reason if depth == len(parts) else f"package of {module}"
            self.modules[name] = FolderModule(name, relative, why)
            self.scan_folder_module(name, relative, where)

    def scan_folder_module(self, name: str, relative: str, where: Span) -> None:
        read = self.root.read(relative)
        self.parsed_folder[name] = None
        if self.root.shadowed(relative):
            self.diagnostics.append(codes.make(codes.PACKAGE_FILE_UNAVAILABLE, where, file=relative, reason=(
                "it is both in the DAG folder and in the plugins archive, with other code: Airflow 2 imports the "
                "DAG folder's, Airflow 3 the plugins'; rename one of them")))
            return
        if read.data is None:
            self.diagnostics.append(codes.make(codes.PACKAGE_FILE_UNAVAILABLE, where, file=relative, reason=read.problem))
            return
        too_complex = nesting_problem(read.data.decode("utf-8", errors="replace"))
        if too_complex is not None:
            self.diagnostics.append(codes.make(codes.PACKAGE_FILE_UNAVAILABLE, where, file=relative,
                                               reason=f"line {too_complex[0]}: {too_complex[1]}"))
            return
        try:
            tree = cst.parse_module(read.data)
        except (cst.ParserSyntaxError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            self.diagnostics.append(codes.make(codes.PACKAGE_FILE_UNAVAILABLE, where, file=relative,
                                               reason=f"it is not valid Python ({str(exc).splitlines()[0]})"))
            return
        self.parsed_folder[name] = tree
        builds = _builds_dag_at_import(tree)
        if builds is not None:
            self.diagnostics.append(codes.make(codes.DAG_OBJECT_IN_CALLABLE, where, name=relative,
                                               what=f"a module that builds a DAG when imported ({builds})"))
        positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
        parents = _parents(tree)
        package = name if relative.endswith("__init__.py") else name.rpartition(".")[0]
        for node in _walk(tree):
            if not isinstance(node, (cst.Import, cst.ImportFrom)):
                continue
            pos = positions[node].start
            span = Span(self.display_root + relative, pos.line, pos.column + 1)
            optional = _in_optional_try(parents, node)
            for target in self.import_modules(node, package):
                if target is None:
                    self.diagnostics.append(codes.make(codes.UNDEFINED_CALLABLE_NAME, span, name=relative,
                                                       reason="a relative import leaves the DAG folder"))
                    continue
                self.add_import(target, span, f"imported by {relative}", optional)

    def import_modules(self, node: cst.Import | cst.ImportFrom, package: str) -> list[str | None]:
        """The modules an import statement loads (for `from p import n`, `p.n` when that is a module)."""
        if isinstance(node, cst.Import):
            return [_dotted(alias.name) for alias in node.names]
        base = _module_of_import(node)
        if node.relative:
            anchor = package.split(".") if package else []
            up = len(node.relative) - 1
            if up > len(anchor):
                return [None]
            anchor = anchor[: len(anchor) - up]
            base = ".".join([*anchor, base] if base else anchor)
        found: list[str | None] = [base] if base else []
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                sub = f"{base}.{alias.evaluated_name}" if base else alias.evaluated_name
                if self.classify(sub) == "folder" and self.classify(base or sub) in ("folder", "unknown"):
                    found.append(sub)
        return found

    def add_import(self, module: str, where: Span, reason: str, optional: bool) -> None:
        kind = self.classify(module)
        if kind == "folder":
            self.add_folder_module(module, reason, where)
        elif kind == "external":
            self.add_external(module, where, optional=optional)
        elif kind == "unknown":
            if optional:
                self.add_external(module, where, optional=True)
            else:
                self.diagnostics.append(codes.make(codes.UNSHIPPABLE_IMPORT, where, module=module))

    # -- DAG-file definitions ----------------------------------------------------------------------

    def import_target(self, assignment: ImportAssignment, bound: str) -> str | None:
        """The dotted thing an import binds to `bound` (`from a import b as c` -> "a.b"; `import a.b` -> "a")."""
        node = assignment.node
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _dotted(alias.name) or ""
                if alias.asname is not None and _asname(alias) == bound:
                    return full
                if alias.asname is None and full.split(".")[0] == bound:
                    return bound
            return None
        assert isinstance(node, cst.ImportFrom)
        if node.relative:
            return None
        base = _module_of_import(node)
        if isinstance(node.names, cst.ImportStar):
            return None
        for alias in node.names:
            if (_asname(alias) or alias.evaluated_name) == bound:
                return f"{base}.{alias.evaluated_name}"
        return None

    def assigning_statement(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The statement that binds a Name target: Assign, AnnAssign, AugAssign, For, With, ..."""
        current = node
        while id(current) in self.parents:
            parent = self.parents[id(current)]
            if isinstance(parent, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.With, cst.NamedExpr,
                                   cst.ExceptHandler, cst.CompFor, cst.Del, cst.MatchAs, cst.MatchStar)):
                return parent
            if isinstance(parent, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return None
            current = parent
        return None

    def statement_line(self, node: cst.CSTNode) -> cst.CSTNode:
        current = node
        while id(current) in self.parents and not isinstance(current, (cst.SimpleStatementLine,
                                                                        cst.BaseCompoundStatement)):
            current = self.parents[id(current)]
        return current

    def decorator_names(self, decorator: cst.Decorator) -> set[str]:
        target = decorator.decorator
        if isinstance(target, cst.Call):
            target = target.func
        scope = self.scopes.get(target) or self.global_scope
        names = {q.name for q in scope.get_qualified_names_for(target)}
        return names

    def is_taskflow_decorator(self, decorator: cst.Decorator) -> bool:
        """A decorator that makes a TaskFlow task of a function. The package carries the plain
        function: the YAML (dag-factory `decorator:` or PythonOperator) applies Airflow's part itself."""
        return any(_is_airflow_decorator(n, "task") for n in self.decorator_names(decorator))

    def is_dag_decorator(self, decorator: cst.Decorator) -> bool:
        return any(_is_airflow_decorator(n, "dag") for n in self.decorator_names(decorator))

    def add_definition(self, node: cst.FunctionDef | cst.ClassDef, reason: str, *,
                       strip_taskflow: bool = False) -> tuple[str, ...]:
        """Add a def or class (and what it needs); returns the decorators left out."""
        if id(node) in self.definitions:
            return ()
        stripped: list[cst.Decorator] = []
        kept: list[cst.Decorator] = []
        for decorator in node.decorators:
            if self.is_dag_decorator(decorator):
                raise self.refuse(codes.DAG_OBJECT_IN_CALLABLE, decorator, name=node.name.value,
                                  what="a @dag function of the DAG file")
            if self.is_taskflow_decorator(decorator):
                if not strip_taskflow:
                    raise self.refuse(codes.DAG_OBJECT_IN_CALLABLE, node, name=node.name.value, what="a TaskFlow task of the DAG file")
                stripped.append(decorator)
            else:
                kept.append(decorator)
        kind = "function" if isinstance(node, cst.FunctionDef) else "class"
        empty = cst.Module(body=[], default_indent=self.module.default_indent,
                           default_newline=self.module.default_newline)
        code = empty.code_for_node(node.with_changes(leading_lines=(), decorators=kept))
        self.definitions[id(node)] = Definition(node.name.value, kind, code, self.line(node), reason)
        pos = self.positions[node].start
        self.definition_order[id(node)] = (pos.line, pos.column)
        self.follow(node, node.name.value, skip=frozenset(id(d) for d in stripped))
        for inner in _walk(node, frozenset(id(d) for d in stripped)):
            if isinstance(inner, (cst.Import, cst.ImportFrom)):
                self.add_local_import(inner, node.name.value)
        return tuple("@" + empty.code_for_node(d.decorator) for d in stripped)

    def add_local_import(self, node: cst.Import | cst.ImportFrom, owner: str) -> None:
        """An import inside a shipped def or class of the DAG file (`def f(): import networkx`):
        it runs when the task does, so what it loads is needed like a module-level import."""
        if isinstance(node, cst.ImportFrom) and not node.relative and _module_of_import(node) == "__future__":
            return
        span = self.span(node)
        reason = f"imported inside {owner} ({self.path}:{self.line(node)})"
        for module in self.import_modules(node, ""):
            if module is None:
                raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, node, name=owner, reason="a relative import in a DAG file")
            self.add_import(module, span, reason, _in_optional_try(self.parents, node))

    def follow(self, node: cst.CSTNode, owner: str, skip: frozenset[int] = frozenset()) -> None:
        """Add every module-level definition the names used inside `node` refer to."""
        inside = {id(n) for n in _walk(node, skip)}
        captured: dict[str, cst.CSTNode] = {}
        seen: set[int] = set()
        for candidate in _walk(node, skip):
            access = self.accesses.get(id(candidate))
            if access is None or id(access) in seen:
                continue
            seen.add(id(access))
            referents = [r for r in access.referents if not _defined_inside(r, inside)]
            name = _access_name(access.node)
            if not access.referents:
                if name.split(".")[0] in _BUILTINS:
                    continue
                reason = "it may come from a star import" if self.star_import else "it is not defined in the DAG file"
                raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, access.node, name=name, reason=reason)
            if not referents or all(isinstance(r, BuiltinAssignment) for r in referents):
                continue
            outer = [r for r in referents if r.scope is not self.global_scope and not isinstance(r, BuiltinAssignment)]
            if outer:
                captured.setdefault(outer[0].name, access.node)
                continue
            self.add_global(referents, access.node, owner)
        if captured:
            outer_def = self.enclosing_function(node)
            raise self.refuse(codes.CLOSURE_CALLABLE, node, name=owner, outer=outer_def,
                              names=", ".join(sorted(captured)))

    def enclosing_function(self, node: cst.CSTNode) -> str:
        current = node
        while id(current) in self.parents:
            current = self.parents[id(current)]
            if isinstance(current, cst.FunctionDef):
                return current.name.value
        return "?"

    def add_global(self, referents: list[BaseAssignment], used_at: cst.CSTNode, owner: str) -> None:
        name = referents[0].name
        reason = f"used by {owner}"
        block = self.import_fallback_block(referents) if len(referents) > 1 else None
        if block is not None:
            self.add_import_block(block, f"imported for {owner} ({self.path}:{self.line(block)})")
            return
        if all(isinstance(r, ImportAssignment) for r in referents):
            first = min(referents, key=lambda r: (self.line(r.node), 0))
            self.add_import_definition(first, _access_name(used_at), f"imported for {owner} ({self.path}:{self.line(first.node)})")
            return
        if len(referents) > 1:
            lines = ", ".join(str(n) for n in sorted(self.line(r.node) for r in referents))
            raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, used_at, name=name,
                              reason=f"it is bound {len(referents)} times at module level (lines {lines}), "
                                     "so its value depends on the order the file runs in")
        referent = referents[0]
        node = referent.node
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.add_definition(node, reason)
            return
        assert isinstance(referent, Assignment)
        statement = self.assigning_statement(node)
        if isinstance(statement, cst.With):
            value = next((item.item for item in statement.items if item.asname is not None
                          and _contains(item.asname, node)), None)
            if isinstance(value, cst.Call) and any(q.startswith("airflow.") for q in self.qualified(value.func)):
                raise self.refuse(codes.DAG_OBJECT_IN_CALLABLE, used_at, name=name, what="the object of a with block of the DAG file")
            raise self.refuse(codes.RUNTIME_MODULE_VALUE, used_at, name=name, source="a with statement")
        if not isinstance(statement, (cst.Assign, cst.AnnAssign)) or statement.value is None:
            what = type(statement).__name__.lower() if statement is not None else "a statement"
            raise self.refuse(codes.RUNTIME_MODULE_VALUE, used_at, name=name, source=f"a {what}")
        line = self.statement_line(statement)
        if not isinstance(line, cst.SimpleStatementLine):
            raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, used_at, name=name,
                              reason="it is assigned inside a compound statement")
        if isinstance(statement.value, cst.Lambda):
            raise self.refuse(codes.LAMBDA_CALLABLE, used_at, name=name)
        self.check_value(name, statement.value, used_at)
        if id(line) not in self.definitions:
            empty = cst.Module(body=[], default_indent=self.module.default_indent,
                               default_newline=self.module.default_newline)
            self.definitions[id(line)] = Definition(name, "constant", empty.code_for_node(
                line.with_changes(leading_lines=())), self.line(line), reason)
            pos = self.positions[line].start
            self.definition_order[id(line)] = (pos.line, pos.column)
            self.follow(statement.value, name)

    def qualified(self, node: cst.CSTNode) -> set[str]:
        scope: Scope | None = self.scopes.get(node)
        if scope is None:
            return set()
        try:
            return {q.name for q in scope.get_qualified_names_for(node)}
        except Exception:  # pragma: no cover - libcst cannot name some synthetic nodes
            return set()

    def check_value(self, name: str, value: cst.BaseExpression, used_at: cst.CSTNode) -> None:
        """Refuse a module-level value that comes from the run-time environment or builds Airflow objects."""
        for node in _walk(value):
            if isinstance(node, cst.Call):
                if isinstance(node.func, cst.Attribute) and node.func.attr.value in _FILE_READ_METHODS:
                    raise self.refuse(codes.RUNTIME_MODULE_VALUE, used_at, name=name,
                                      source=f"a file read, .{node.func.attr.value}() (line {self.line(node)})")
                callee = self.qualified(node.func)
                if any(_builds_dag_object(q) for q in callee):
                    raise self.refuse(codes.DAG_OBJECT_IN_CALLABLE, used_at, name=name,
                                      what=f"an Airflow object the DAG file builds ({sorted(callee)[0]}, line {self.line(node)})")
                local = self.global_scope.assignments[_dotted(node.func) or ""] if _dotted(node.func) else ()
                for assignment in local:
                    if isinstance(assignment.node, cst.FunctionDef) and any(
                            self.is_dag_decorator(d) for d in assignment.node.decorators):
                        raise self.refuse(codes.DAG_OBJECT_IN_CALLABLE, used_at, name=name, what="a DAG the DAG file builds")
            if isinstance(node, (cst.Name, cst.Attribute)):
                runtime = sorted(q for q in self.qualified(node) if _is_runtime(q))
                if runtime:
                    raise self.refuse(codes.RUNTIME_MODULE_VALUE, used_at, name=name,
                                      source=f"{runtime[0]} (line {self.line(node)})")

    def add_import_definition(self, assignment: BaseAssignment, used: str, reason: str) -> None:
        node = assignment.node
        assert isinstance(node, (cst.Import, cst.ImportFrom))
        span = self.span(node)
        optional = _in_optional_try(self.parents, node)
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _dotted(alias.name) or ""
                bound = _asname(alias) or full.split(".")[0]
                if bound != used.split(".")[0]:
                    continue
                code = f"import {full} as {bound}" if alias.asname is not None else f"import {full}"
                self.add_import_line(node, alias, code, bound, reason)
                self.add_import(full, span, reason, optional)
            return
        if node.relative:
            raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, node, name=used, reason="a relative import in a DAG file")
        base = _module_of_import(node)
        assert not isinstance(node.names, cst.ImportStar)
        for alias in node.names:
            bound = _asname(alias) or alias.evaluated_name
            if bound != used.split(".")[0]:
                continue
            code = (f"from {base} import {alias.evaluated_name} as {bound}" if alias.asname is not None
                    else f"from {base} import {bound}")
            self.add_import_line(node, alias, code, bound, reason)
            if base == "__future__":
                continue
            for module in self.import_modules(node.with_changes(names=[alias]), ""):
                if module is not None:
                    self.add_import(module, span, reason, optional)

    def import_fallback_block(self, referents: list[BaseAssignment]) -> cst.Try | None:
        """The module-level `try: import a / except ImportError: import b` that binds a name several
        times, when it holds nothing but imports and constant assignments; else None."""
        tops = {id(top): top for top in (self.top_statement(r.node) for r in referents)}
        if len(tops) != 1:
            return None
        top = next(iter(tops.values()))
        if not isinstance(top, cst.Try) or top.finalbody is not None or not top.handlers:
            return None
        if not _in_optional_try(self.parents, top.body.body[0]) if top.body.body else True:
            return None
        blocks = [top.body, *(h.body for h in top.handlers), *([top.orelse.body] if top.orelse else [])]
        for block in blocks:
            for line in block.body:
                if not isinstance(line, cst.SimpleStatementLine):
                    return None
                for small in line.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass)):
                        continue
                    if isinstance(small, cst.Assign) and isinstance(small.value, (cst.Name, cst.BaseNumber,
                                                                                  cst.SimpleString)):
                        if isinstance(small.value, cst.Name) and small.value.value not in ("None", "True", "False"):
                            return None
                        continue
                    return None
        return top

    def top_statement(self, node: cst.CSTNode) -> cst.CSTNode:
        current = node
        while id(current) in self.parents and self.parents[id(current)] is not self.module:
            current = self.parents[id(current)]
        return current

    def add_import_block(self, block: cst.Try, reason: str) -> None:
        if id(block) in self.definitions:
            return
        empty = cst.Module(body=[], default_indent=self.module.default_indent,
                           default_newline=self.module.default_newline)
        code = empty.code_for_node(block.with_changes(leading_lines=())).rstrip("\n")
        names = sorted({_asname(a) or a.evaluated_name.split(".")[0] for n in _walk(block)
                        if isinstance(n, (cst.Import, cst.ImportFrom)) and not isinstance(n.names, cst.ImportStar)
                        for a in n.names})
        self.definitions[id(block)] = Definition(", ".join(names), "import", code, self.line(block), reason)
        pos = self.positions[block].start
        self.definition_order[id(block)] = (pos.line, pos.column)
        for node in _walk(block):
            if isinstance(node, (cst.Import, cst.ImportFrom)):
                if isinstance(node, cst.ImportFrom) and node.relative:
                    raise self.refuse(codes.UNDEFINED_CALLABLE_NAME, node, name=names[0] if names else "?",
                                      reason="a relative import in a DAG file")
                for module in self.import_modules(node, ""):
                    if module is not None:
                        self.add_import(module, self.span(node), reason, _in_optional_try(self.parents, node))

    def add_import_line(self, node: cst.CSTNode, alias: cst.ImportAlias, code: str, bound: str, reason: str) -> None:
        if id(alias) in self.definitions:
            return
        self.definitions[id(alias)] = Definition(bound, "import", code, self.line(node), reason)
        pos = self.positions[node].start
        self.definition_order[id(alias)] = (pos.line, pos.column)

    # -- result --------------------------------------------------------------------------------

    def result(self) -> Closure:
        order = sorted(self.definitions, key=lambda k: (self.definitions[k].kind != "import", self.definition_order[k]))
        return Closure(
            definitions=tuple(self.definitions[k] for k in order),
            modules=tuple(sorted(self.modules.values(), key=lambda m: m.path)),
            imports=tuple(sorted(self.imports.values(), key=lambda i: (i.module, i.span.path, i.span.line))),
            resolved=tuple(self.resolved),
            diagnostics=tuple(sorted(set(self.diagnostics), key=Diagnostic.sort_key)),
            future_annotations=self.future_annotations,
        )


def _asname(alias: cst.ImportAlias) -> str | None:
    if alias.asname is None:
        return None
    name = alias.asname.name
    return name.value if isinstance(name, cst.Name) else None


def _access_name(node: cst.CSTNode) -> str:
    if isinstance(node, (cst.Name, cst.Attribute)):
        return _dotted(node) or "?"
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value if isinstance(node.evaluated_value, str) else "?"
    return "?"


def _builds_dag_object(qualified: str) -> bool:
    """An Airflow class whose instances belong to a DAG: the DAG itself, task groups, operators, sensors."""
    if not qualified.startswith("airflow."):
        return False
    last = qualified.rsplit(".", 1)[-1]
    return (last in ("DAG", "TaskGroup") or last.endswith(("Operator", "Sensor"))
            or ".operators." in qualified or ".sensors." in qualified)


def _is_runtime(qualified: str) -> bool:
    return any(qualified == p.rstrip(".") or qualified.startswith(p if p.endswith(".") else p + ".")
               or qualified == p for p in _RUNTIME_SOURCES)


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    return any(n is node for n in _walk(tree))


def _defined_inside(referent: BaseAssignment, inside: set[int]) -> bool:
    """A name bound in a scope (function, class, comprehension) that lies inside the shipped node."""
    return id(getattr(referent.scope, "node", None)) in inside


def _builds_dag_at_import(tree: cst.Module) -> str | None:
    """Why a folder module would build a DAG when imported (a `DAG(...)` call or a call of a @dag
    function outside any def or class), or None. In the service's DAG folder such a module is parsed
    as a second, Python DAG; names are matched as written, which errs towards refusing."""
    dag_functions = {n.name.value for n in tree.body if isinstance(n, cst.FunctionDef) and any(
        (_dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "").split(".")[-1] == "dag"
        for d in n.decorators)}
    skip = frozenset(id(n.body) for n in _walk(tree) if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)))
    for node in _walk(tree, skip):
        if isinstance(node, cst.Call):
            callee = _dotted(node.func) or ""
            if callee.split(".")[-1] == "DAG" or callee in dag_functions:
                return f"{callee}()"
    return None


def _top_level_names(tree: cst.Module) -> set[str]:
    """Names a module binds at module level (defs, classes, assignments, imports), any nesting of if/try."""
    names: set[str] = set()
    skip = frozenset(id(n.body) for n in _walk(tree) if isinstance(n, (cst.FunctionDef, cst.ClassDef)))
    for node in _walk(tree, skip):
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            names.add(node.name.value)
        elif isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
            names.add(node.target.value)
        elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
            names.add(node.target.value)
        elif isinstance(node, cst.ImportAlias):
            names.add(_asname(node) or node.evaluated_name.split(".")[0])
    return names
