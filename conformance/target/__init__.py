"""The deployment under test: where it is, which Airflow it runs, how to authenticate."""
