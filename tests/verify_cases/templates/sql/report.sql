-- rows of one day
SELECT count(*) FROM {{ params.table }}
WHERE ds = '{{ ds }}'
  AND region = '{{ var.value.region }}'
  AND batch = '{{ ti.xcom_pull(task_ids="start") }}';
