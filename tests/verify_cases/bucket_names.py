"""A helper module beside a DAG file, imported the way MWAA's dags folder allows."""

RAW_BUCKET = "raw-bucket"
