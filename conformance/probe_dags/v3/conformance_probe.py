"""airflow-conformance probe DAG (Airflow 3.x): the suite's quick probe DAG: scenarios trigger it with a conf and read back its state, logs and XCom.

Uses the Task SDK (airflow.sdk) and the standard provider's PythonOperator.
The task logs a marker line with the run's conf and pushes an XCom under key
"probe"; it finishes in well under two seconds.
"""

import json
from datetime import datetime, timezone

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

DAG_ID = "conformance_probe"
MARKER = "AIRFLOW-CONFORMANCE-PROBE-MARKER"


def _echo(**context):
    conf = context["dag_run"].conf or {}
    print(MARKER + " " + json.dumps(conf, sort_keys=True, default=str), flush=True)
    value = {"conf": conf, "marker": MARKER}
    context["ti"].xcom_push(key="probe", value=value)
    return value


with DAG(
    dag_id=DAG_ID,
    schedule=None,
    start_date=datetime(2021, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["conformance"],
    default_args={"owner": "airflow-conformance", "retries": 0},
    description="airflow-conformance probe DAG",
) as dag:
    PythonOperator(task_id="echo", python_callable=_echo)
