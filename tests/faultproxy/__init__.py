"""A fault-injecting HTTP proxy for the project's own negative tests.

`proxy` is the server (`FaultProxy`), `mutation` the vocabulary of faults
(`Mutation` and its hook builders), `corpus` the list of contract violations
each hand-written check must catch, and `targets` the helpers that find or
start the real local Airflow the proxy sits in front of.
"""

from .mutation import Mutation
from .proxy import Credentials, FaultProxy, Request, Response

__all__ = ["Credentials", "FaultProxy", "Mutation", "Request", "Response"]
