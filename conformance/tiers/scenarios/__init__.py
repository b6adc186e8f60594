"""Hand-written scenarios, one module per API area, in the order a deployment is exercised:
health and version, auth, DAGs, DAG runs, task instances, pools/variables/connections, monitoring."""
