"""A fault-injecting HTTP proxy for the project's own negative tests.

`proxy` is the server (`FaultProxy`), `mutation` the vocabulary of faults
(`Mutation` and its hook builders), `corpus` the list of contract violations
each hand-written check must catch. The real local Airflow the proxy sits in
front of is found or started by tests/targets.py, like every test's target.
"""

from .mutation import Mutation
from .proxy import Credentials, FaultProxy, Request, Response

__all__ = ["Credentials", "FaultProxy", "Mutation", "Request", "Response"]
