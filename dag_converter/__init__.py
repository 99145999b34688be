"""dag-converter: static conversion of Airflow Python DAGs to dag-factory YAML."""

__version__ = "0.1.0"
