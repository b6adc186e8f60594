"""Contract-testing and conformance suite for Apache Airflow REST API deployments."""

__version__ = "0.1.0"
