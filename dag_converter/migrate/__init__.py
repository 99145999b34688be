"""`dag-converter migrate --from-environment NAME`: an MWAA environment to MWAA Serverless workflows,
through one reviewed plan (issue 20). Built on convert (batch.run), iam and deploy.

- `source`: the environment as the MWAA API describes it (GetEnvironment) and its Airflow's view of the
  DAGs (InvokeRestApi: paused, broken); pausing a source DAG.
- `carry`: what of the environment a workflow takes over (network, key, tags, secrets backend).
- `adapters`: the one place that calls the roles and code-package features (small, replaceable).
- `plan`: the migration plan as data, Markdown and JSON.
- `run`: one migration from start to end (read, convert, derive, plan, and with --apply deploy).
- `command`: the click command.
"""
