"""One source of truth for a run's configuration.

The CLI, the pytest plugin and the environment variables all produce a
`RunOptions`; nothing else reads flags.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

PROFILES = ("readonly", "sandbox", "disruptive")
KINDS = ("scenarios", "properties", "posture")
DEFAULT_REPORT_DIR = "reports/latest"
DEFAULT_MAX_EXAMPLES = 20
DEFAULT_CLIENT = "auto"  # the official client release matching the server (conformance.clients.versions)


def new_run_id() -> str:
    """Short, identifier-safe, and prefixed so `cleanup` can find leftovers of any run."""
    return "acf_" + secrets.token_hex(4)


@dataclass
class RunOptions:
    url: str | None = None
    auth: str | None = None
    profile: str = "sandbox"
    only: tuple[str, ...] = KINDS
    report_dir: str = DEFAULT_REPORT_DIR
    max_examples: int = DEFAULT_MAX_EXAMPLES
    max_rps: float | None = None
    time_budget: float | None = None  # seconds for the property tier; None: --max-examples alone decides
    workers: int = 1
    seed: int | None = None
    run_id: str = field(default_factory=new_run_id)
    allow_disruptive: bool = False
    keyword: str | None = None
    client: str = DEFAULT_CLIENT  # official client releases that read the recorded answers: auto, none, or V[,V]

    def __post_init__(self) -> None:
        if self.seed is None:  # random unless given, and always recorded, so any run can be repeated
            self.seed = int.from_bytes(os.urandom(4), "big")

    @classmethod
    def from_env(cls, **overrides) -> RunOptions:
        opts = cls(url=os.environ.get("AIRFLOW_CONFORMANCE_URL"), auth=os.environ.get("AIRFLOW_CONFORMANCE_AUTH"),
                   client=os.environ.get("AIRFLOW_CONFORMANCE_CLIENT") or DEFAULT_CLIENT)
        for key, value in overrides.items():
            if value is not None:
                setattr(opts, key, value)
        return opts

    @property
    def prefix(self) -> str:
        """Names of everything this run creates start with this."""
        return self.run_id + "_"

    def describe(self) -> dict:
        """The run's configuration as reports show it (no secrets: auth is shown by kind only)."""
        return {
            "profile": self.profile,
            "only": list(self.only),
            "max_examples": self.max_examples,
            "max_rps": self.max_rps,
            "time_budget": self.time_budget,
            "workers": self.workers,
            "seed": self.seed,
            "run_id": self.run_id,
            "report_dir": self.report_dir,
            "keyword": self.keyword,
            "client": self.client,
        }
