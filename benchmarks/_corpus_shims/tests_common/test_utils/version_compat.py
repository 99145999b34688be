"""Shim: the venv runs Airflow 3.0.x."""

AIRFLOW_V_3_0_PLUS = True
AIRFLOW_V_3_0_1 = True


def __getattr__(name):
    if name.startswith("AIRFLOW_V_"):
        return False
    raise AttributeError(name)
