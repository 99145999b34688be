"""Shim of Airflow's tests_common for loading the provider's example DAGs (Airflow 3.0 here)."""

AIRFLOW_V_3_0_PLUS = True
AIRFLOW_V_3_0_1 = True
AIRFLOW_V_3_1_PLUS = False
AIRFLOW_V_3_2_PLUS = False
