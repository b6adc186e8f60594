"""Cheap password checks for the suite's own users on local Airflow 2.x targets.

Airflow 2.x checks the Basic-auth password of every API request against the FAB user's stored
hash, and `airflow users create` stores it with werkzeug's default cost (pbkdf2-sha256 with
hundreds of thousands of rounds): about 0.17 s of a core per request here, twenty times what
the request itself costs, so a run of a few thousand requests spends most of its minutes
hashing. The users of a local target are throwaway identities of a loopback-only server, so
their hashes are rewritten with few rounds once per home. The target's API behaves exactly as
before (werkzeug reads the method and rounds from the stored hash); a deployment under test is
never touched, only the homes the suite provisions.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROUNDS = 1000  # pbkdf2-sha256 rounds of the rewritten hashes
TIMEOUT_S = 300

# Runs inside the release's own venv: its werkzeug hashes, its SQLAlchemy writes (SQLite or PostgreSQL).
# The passwords arrive on stdin, never on a command line.
_SCRIPT = """
import json, sys
from werkzeug.security import generate_password_hash
from sqlalchemy import text
from airflow import settings
settings.configure_orm()
users = json.loads(sys.stdin.read())
with settings.engine.begin() as conn:
    done = 0
    for user, password in users.items():
        hashed = generate_password_hash(password, method="pbkdf2:sha256:%d")
        done += conn.execute(text("UPDATE ab_user SET password = :p WHERE username = :u"),
                             {"p": hashed, "u": user}).rowcount
print(done)
"""


def cheapen(python: Path, env: dict[str, str], cwd: Path, users: dict[str, str], log: Path) -> int:
    """Rewrite the stored hashes of `users` (name -> password) with few rounds; how many rows changed.

    Raises RuntimeError with the log's last line when the script fails (the home stays usable:
    its users keep their old, slow hashes).
    """
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n==== cheap password hashes for {', '.join(sorted(users))} ({ROUNDS} rounds)\n")
        fh.flush()
        proc = subprocess.run(
            [str(python), "-c", _SCRIPT % ROUNDS],
            input=json.dumps(users),
            env=env,
            cwd=str(cwd),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
            start_new_session=True,
        )
        fh.write(proc.stdout)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines or not lines[-1].strip().isdigit():
        raise RuntimeError(lines[-1][:300] if lines else f"exit {proc.returncode}")
    return int(lines[-1])
