"""airflow-conformance probe DAG (Airflow 2.x): a twin of conformance_probe that scenarios may delete over the API; it comes back when its file is parsed again.

Classic imports only, so the same file parses on every release from 2.0.2 to 2.11.
The task logs a marker line with the run's conf and pushes an XCom under key
"probe"; it finishes in well under two seconds.
"""

import json
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

DAG_ID = "conformance_probe_disposable"
MARKER = "AIRFLOW-CONFORMANCE-PROBE-MARKER"


def _echo(**context):
    conf = context["dag_run"].conf or {}
    print(MARKER + " " + json.dumps(conf, sort_keys=True, default=str), flush=True)
    value = {"conf": conf, "marker": MARKER}
    context["ti"].xcom_push(key="probe", value=value)
    return value


with DAG(
    dag_id=DAG_ID,
    schedule_interval=None,
    start_date=datetime(2021, 1, 1),
    catchup=False,
    tags=["conformance"],
    default_args={"owner": "airflow-conformance", "retries": 0},
    description="airflow-conformance probe DAG",
) as dag:
    PythonOperator(task_id="echo", python_callable=_echo)
