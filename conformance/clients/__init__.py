"""The official Airflow Python clients as a second reading of the contract.

`versions` says which `apache-airflow-client` releases exist and which one
matches a server; `environment` gives each release its own cached venv;
`runner` is the script that runs inside that venv and deserializes recorded
answers with the client's own models; `reading` turns its verdicts into
per-operation tallies, matched against the recorded deviations.
"""
