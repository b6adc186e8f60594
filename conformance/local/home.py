"""Prepare the AIRFLOW_HOME of a local target and the environment its processes run with.

All configuration goes through `AIRFLOW__SECTION__KEY` variables (no editing of
airflow.cfg), so what a target runs with is visible in one place. Secrets
(admin password, JWT secret, secret key, Fernet key) are generated once per home
and kept in a mode-600 file in it: restarting a target keeps its credentials,
sessions and encrypted connections valid.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import paths
from conformance.local.versions import VersionSpec
from conformance.probes import dags as probe_dags

ADMIN_USER = "admin"
# One user per built-in role besides the admin (the authorization checks find them by URL):
# Airflow 2 (FAB) roles and Airflow 3 SimpleAuthManager roles, as each release spells them.
ROLE_USERS = {
    2: {"Op": "op", "User": "user", "Viewer": "viewer", "Public": "public"},
    3: {"op": "op", "user": "user", "viewer": "viewer"},
}
ADMIN_ROLE = {2: "Admin", 3: "admin"}
SECRETS_FILE = "conformance-credentials.json"
PASSWORDS_FILE = "simple_auth_manager_passwords.json"
_BASIC = "airflow.api.auth.backend.basic_auth"
# [api] page limits of every local target, low enough that a limit above the maximum, a list without limit and
# limit=0 each give a page shorter than the lists the paging checks read (2.0.2 lists ~28 DAGs with the probe DAGs,
# 3.3.2 ~115; event logs grow with every run), so clamping and the default page size are decided on every release.
# Recorded in the target's state: the run judges by them (conformance.run.context.page_limits_of).
PAGE_LIMITS = {"maximum": 20, "fallback": 10}
_SESSION = "airflow.api.auth.backend.session"

# Anonymous API requests must get 401, not FAB >= 1.5.4's "Public" role (403).
_WEBSERVER_CONFIG = '''\
"""Written by airflow-conformance: Airflow's default FAB settings, with no public role."""
import os

from flask_appbuilder.security.manager import AUTH_DB

basedir = os.path.abspath(os.path.dirname(__file__))
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None
AUTH_TYPE = AUTH_DB
AUTH_ROLE_PUBLIC = None
'''


@dataclass(frozen=True)
class Home:
    """An AIRFLOW_HOME folder and the secrets stored in it."""

    path: Path
    password: str
    jwt_secret: str
    secret_key: str
    fernet_key: str
    role_passwords: dict = field(default_factory=dict)  # role user -> password (never printed)
    backend: str = "sqlite"  # the metadata database kind: "sqlite" (airflow.db here) or "postgres"

    @property
    def dags(self) -> Path:
        return self.path / "dags"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    def component_log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    @property
    def database(self) -> Path:
        return self.path / "airflow.db"

    @property
    def initialized_marker(self) -> Path:
        return self.path / ".conformance-initialized"


def home_dir(version: str, database: str = "sqlite") -> Path:
    """homes/airflow-V for SQLite, homes/airflow-V-postgres for PostgreSQL: the two never share files."""
    return (
        paths.cache_dir() / "homes" / ("-".join([f"airflow-{version}"] + ([database] if database != "sqlite" else [])))
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read, without a window where it is world-readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def _password() -> str:
    """A random password that no command line parser mistakes for an option."""
    while True:
        candidate = secrets.token_urlsafe(18)
        if candidate[0].isalnum():
            return candidate


def _with_role_passwords(file: Path, data: dict) -> dict:
    """A password for every role user (a home made before role users existed gains them, once)."""
    roles = data.get("role_passwords")
    if not isinstance(roles, dict):
        roles = {}
    users = sorted({u for table in ROLE_USERS.values() for u in table.values()})
    if all(u in roles for u in users):
        return data
    data = {**data, "role_passwords": {**roles, **{u: _password() for u in users if u not in roles}}}
    _write_private(file, json.dumps(data, indent=2))
    return data


def _load_or_create_secrets(path: Path) -> tuple[dict[str, Any], bool]:
    """The home's secrets (strings, and the role users' passwords by user) and whether they were created just now."""
    file = path / SECRETS_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if all(k in data for k in ("password", "jwt_secret", "secret_key", "fernet_key")):
            return _with_role_passwords(file, data), False
    except (OSError, ValueError):
        pass
    data = {
        "user": ADMIN_USER,
        "password": _password(),
        "jwt_secret": secrets.token_urlsafe(64),  # 86 chars, well over the 64 bytes asked for
        "secret_key": secrets.token_urlsafe(32),
        "fernet_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    _write_private(file, json.dumps(data, indent=2))
    return _with_role_passwords(file, data), True


def prepare(spec: VersionSpec, database: str = "sqlite") -> Home:
    """Create the home folder, its secrets, probe DAGs and auxiliary config files."""
    path = home_dir(spec.version, database)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    data, created = _load_or_create_secrets(path)
    home = Home(
        path,
        data["password"],
        data["jwt_secret"],
        data["secret_key"],
        data["fernet_key"],
        dict(data["role_passwords"]),
        database,
    )
    if created:
        # a database from older secrets holds another admin password and Fernet key: start over
        home.database.unlink(missing_ok=True)
        home.initialized_marker.unlink(missing_ok=True)
    home.dags.mkdir(exist_ok=True)
    home.logs.mkdir(exist_ok=True)
    probe_dags.install(home.dags, spec.version)
    if spec.major == 3:
        users = {ADMIN_USER: home.password, **{u: home.role_passwords[u] for u in ROLE_USERS[3].values()}}
        _write_private(path / PASSWORDS_FILE, json.dumps(users))
    if spec.auth_role_public_none:
        (path / "webserver_config.py").write_text(_WEBSERVER_CONFIG, encoding="utf-8")
    return home


def environment(
    spec: VersionSpec,
    home: Home,
    *,
    port: int,
    log_ports: tuple[int, int],
    auth_config: str = "conformance",
    venv: Path,
    sql_conn: str | None = None,
) -> dict[str, str]:
    """The process environment for every `airflow` command of this target.

    `sql_conn` (a PostgreSQL URL with its password) replaces the SQLite file; 2.0-2.2 read it from
    [core], 2.3+ from [database]. The SQLite file is Airflow's own (`airflow.db` in the home), named
    with a busy timeout: under load the scheduler, task heartbeats and the API write at once, and with
    sqlite3's 5 s default a writer gives up with "database is locked" (a 3.3.2 scheduler died of it).
    The wait stays well under the suite's request timeout: an API call stuck behind the lock for longer
    than that ends as a read timeout (an `error`, nothing judged) instead of the server's own answer.
    """
    env = _inherited()
    env.update(_common_settings(home, log_ports, venv))
    section = "CORE" if spec.version_tuple < (2, 3) else "DATABASE"
    env[f"AIRFLOW__{section}__SQL_ALCHEMY_CONN"] = sql_conn or sqlite_url(home.database)
    if spec.major == 2:
        env.update(_airflow2_settings(home, port, log_ports[0], auth_config))
    else:
        env.update(_airflow3_settings(home, port))
    return env


SQLITE_BUSY_TIMEOUT_S = 20  # < options.DEFAULT_REQUEST_TIMEOUT (30 s): see environment()


def sqlite_url(database: Path) -> str:
    """SQLAlchemy's URL of the target's SQLite file, with the busy timeout pysqlite (and aiosqlite) read from it."""
    return f"sqlite:///{database}?timeout={SQLITE_BUSY_TIMEOUT_S}"


def _inherited() -> dict[str, str]:
    """This process's environment without anything that would point Airflow at another home or config."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIRFLOW__")
        and k not in ("AIRFLOW_HOME", "AIRFLOW_CONFIG", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }


def _common_settings(home: Home, log_ports: tuple[int, int], venv: Path) -> dict[str, str]:
    worker_port, trigger_port = log_ports
    return {
        "AIRFLOW_HOME": str(home.path),
        "VIRTUAL_ENV": str(venv),
        # 2.0's webserver starts `gunicorn` by name: the venv's bin/ must come first.
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home.dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "True",
        "AIRFLOW__CORE__FERNET_KEY": home.fernet_key,
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home.logs),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_port),
        # run probe DAGs within seconds (heartbeats only feed /health; the loops sleep 1 s)
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__PROCESSOR_POLL_INTERVAL": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",
        "AIRFLOW__API__MAXIMUM_PAGE_LIMIT": str(PAGE_LIMITS["maximum"]),
        "AIRFLOW__API__FALLBACK_PAGE_LIMIT": str(PAGE_LIMITS["fallback"]),
    }


def _airflow2_settings(home: Home, port: int, worker_port: int, auth_config: str) -> dict[str, str]:
    env = {
        # new DAG files show up within 5 s, changed or deleted-over-the-API ones within 10 s
        "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__WEBSERVER__SECRET_KEY": home.secret_key,
        "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(port),
        "AIRFLOW__WEBSERVER__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__WEBSERVER__WORKERS": "2",
        # 2.0/2.1 read the log-server port from [celery]
        "AIRFLOW__CELERY__WORKER_LOG_SERVER_PORT": str(worker_port),
    }
    if auth_config == "conformance":
        # 2.0-2.2 read only the singular key, 2.3+ only the plural one: set both.
        env["AIRFLOW__API__AUTH_BACKEND"] = _BASIC
        env["AIRFLOW__API__AUTH_BACKENDS"] = f"{_BASIC},{_SESSION}"
    return env


def _airflow3_settings(home: Home, port: int) -> dict[str, str]:
    return {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
            [f"{ADMIN_USER}:admin", *(f"{user}:{role}" for role, user in ROLE_USERS[3].items())]
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home.path / PASSWORDS_FILE),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": home.jwt_secret,
        "AIRFLOW__API__SECRET_KEY": home.secret_key,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        # LocalExecutor forks `parallelism` workers (default 32, ~130 MB each): keep it small
        "AIRFLOW__CORE__PARALLELISM": "4",
        # new files are listed every 5 s; re-parsing stays at 30 s because 3.x parses each
        # file in a fresh process: at 10 s an idle 3.3.2 kept ~50% of a core busy (30 s: ~30%)
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
    }


def role_identities(home: Home, major: int) -> dict[str, dict[str, str]]:
    """role -> credentials of the role users of a home (for the state file; never printed)."""
    kind = "basic" if major == 2 else "jwt"
    return {
        role: {"kind": kind, "user": user, "password": home.role_passwords[user]}
        for role, user in ROLE_USERS[major].items()
    }
