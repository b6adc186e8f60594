"""The compatibility matrix: the suite run across Airflow releases, side by side."""
