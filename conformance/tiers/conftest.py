"""Short fixture names for the suite's own check modules, and for them only.

The run's fixtures are named `airflow_*` (they live on the `ConformanceRun` plugin
object, and a plugin's fixtures are visible to every test in the session, the
user's own included). A conftest's fixtures reach only the tests below its
folder, so the short names here never appear in anyone else's test suite.
"""

from __future__ import annotations

from typing import Literal

import pytest

_Scope = Literal["session", "function"]

# short name -> scope; each stands for the run's fixture `airflow_<short name>`
ALIASES: dict[str, _Scope] = {"ctx": "session", "api": "session", "anon": "session", "target": "session",
                              "dialect": "session", "expect": "function", "verdict": "function"}


def _alias(short: str, scope: _Scope):
    def fixture(request: pytest.FixtureRequest):
        return request.getfixturevalue(f"airflow_{short}")

    fixture.__doc__ = f"The run's `airflow_{short}`, by the short name the suite's check modules use."
    return pytest.fixture(fixture, scope=scope, name=short)


for _short, _scope in ALIASES.items():
    globals()[_short] = _alias(_short, _scope)
