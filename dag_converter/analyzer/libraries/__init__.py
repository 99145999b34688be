"""What the interpreter knows about imported libraries: one module each (astroid's brains).

Each module has a Library class whose handlers are tables keyed by `imports.Role`; `LIBRARIES`
lists them in the order the interpreter asks them.
"""

from __future__ import annotations

from collections.abc import Sequence

from dag_converter.analyzer.interpreter import Interpreter, Library
from dag_converter.analyzer.libraries.airflow import AirflowLibrary
from dag_converter.analyzer.libraries.files import FilesLibrary
from dag_converter.analyzer.libraries.runtime import RuntimeLibrary
from dag_converter.analyzer.libraries.stdlib import StdlibLibrary
from dag_converter.analyzer.libraries.time import TimeLibrary


def standard_libraries(interpreter: Interpreter) -> Sequence[Library]:
    """The libraries every DAG file is interpreted with, in the order they are asked."""
    return (TimeLibrary(interpreter), FilesLibrary(interpreter), RuntimeLibrary(interpreter), StdlibLibrary(interpreter),
            AirflowLibrary(interpreter))


__all__ = ["AirflowLibrary", "FilesLibrary", "RuntimeLibrary", "StdlibLibrary", "TimeLibrary", "standard_libraries"]
