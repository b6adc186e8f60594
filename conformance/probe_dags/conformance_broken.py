# airflow-conformance: a deliberately broken DAG file.
# It raises while Airflow imports it, so the DAG processor records an import
# error for it; the suite checks that GET importErrors reports this file.
# (The words "airflow" and "DAG" appear here so Airflow's safe mode parses it.)

raise RuntimeError("airflow-conformance deliberately broken probe DAG")
