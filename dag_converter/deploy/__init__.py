"""`dag-converter deploy`: create or update one MWAA Serverless workflow per converted DAG.

- `names`: workflow names, the rule the service enforces on them, and the tags this tool owns.
- `inputs`: the converted DAGs of an output folder (its manifest) and their YAML definitions.
- `upload`: definitions copied to S3, skipped when the same bytes are already there.
- `service`: the MWAA Serverless client: paging, retries after throttling, errors as data.
- `plan`: creates, updates, unchanged and deletes, computed as data before any mutating call.
- `apply`: carries a plan out, one workflow at a time; a failure becomes a diagnostic.
- `run`: one deploy from the output folder to the results (open, check, list, plan, apply).
- `command`: the click command.
"""
