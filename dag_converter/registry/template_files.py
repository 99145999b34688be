"""Which templated arguments of an operator may name a template file, and by which endings.

Airflow renders a templated argument whose value ends with one of the operator's `template_ext` from
that file (Jinja looks it up relative to the DAG file's folder, then in `template_searchpath`). The
analyzer inlines such files (analyzer/libraries/templates.py); the code package ships them instead
(codepackage/files.py). Both read this one table.
"""

from __future__ import annotations

from typing import Final

_BASH: Final = (frozenset({"bash_command", "env"}), (".sh", ".bash"))
_SQL_CHECK: Final = (frozenset({"sql"}), (".hql", ".sql"))

#: Operator class (canonical and legacy paths) -> (templated arguments that may name a file,
#: template_ext), as the classes of the reference environment define them (Airflow 3.0.6, providers
#: amazon 9.32.0, standard 1.21.0, common-sql 2.4.0).
TEMPLATE_FILES: Final[dict[str, tuple[frozenset[str], tuple[str, ...]]]] = {
    "airflow.providers.standard.operators.bash.BashOperator": _BASH,
    "airflow.operators.bash.BashOperator": _BASH,
    "airflow.operators.bash_operator.BashOperator": _BASH,
    "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator": (frozenset({"sql"}), (".sql", ".json")),
    "airflow.providers.common.sql.operators.sql.SQLCheckOperator": _SQL_CHECK,
    "airflow.providers.common.sql.operators.sql.SQLValueCheckOperator": _SQL_CHECK,
    "airflow.providers.common.sql.operators.sql.SQLThresholdCheckOperator": _SQL_CHECK,
    "airflow.providers.common.sql.operators.sql.SQLIntervalCheckOperator": (frozenset({"sql1", "sql2"}),
                                                                            (".hql", ".sql")),
    "airflow.providers.common.sql.operators.sql.BranchSQLOperator": (frozenset({"sql"}), (".sql",)),
    "airflow.providers.amazon.aws.operators.athena.AthenaOperator": (frozenset({"query"}), (".sql",)),
    "airflow.providers.amazon.aws.operators.redshift_data.RedshiftDataOperator": (frozenset({"sql"}), (".sql",)),
    "airflow.providers.amazon.aws.transfers.sql_to_s3.SqlToS3Operator": (frozenset({"query"}), (".sql",)),
}


def included_templates(text: str) -> tuple[str | None, ...] | str:
    """The templates a template file pulls in by name (`{% include %}`, `{% import %}`, `{% from %}`,
    `{% extends %}`), in order; None for a name computed when it renders. A text Jinja cannot parse
    gives the parser's message instead (Airflow would fail to render it)."""
    import jinja2
    import jinja2.meta

    try:
        # Airflow's template environment adds the `do` extension; parsed here, never rendered.
        tree = jinja2.Environment(autoescape=False, extensions=["jinja2.ext.do"]).parse(text)  # noqa: S701
        return tuple(jinja2.meta.find_referenced_templates(tree))
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    except RecursionError:
        return "nested too deeply to parse"
