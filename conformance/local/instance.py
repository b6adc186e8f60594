"""Start and stop a real Airflow of a given release on this machine.

This is the suite's embedded default: with no target given, `run` provisions
the newest release here. `start` installs (or reuses) the release's venv,
prepares its home, initialises the database once, starts each component as
its own process group and returns only when the API answers, the probe DAG is
visible through the authenticated API and the broken probe file is reported as
an import error: a target that is "up" is ready for every scenario.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests

from conformance.errors import ConfigError, SuiteError
from conformance.local import fixtures, logins, postgres, processes, state
from conformance.local import home as home_mod
from conformance.local.target import DATABASES, LocalTarget, target_key
from conformance.local.venv import airflow_bin, ensure_venv
from conformance.local.versions import VersionSpec, resolve, supported
from conformance.probes.dags import BROKEN_FILENAME, PROBE_DAG_ID

Progress = Callable[[str], None]

AUTH_CONFIGS = ("conformance", "default")
READY_TIMEOUT_S = 240
REJECTED_GRACE_S = 30  # credentials refused this long after the API answers: a real rejection
INIT_TIMEOUT_S = 600
BASE_PORT = 28080  # default port of a release: BASE_PORT + its row in the table
POSTGRES_PORT_OFFSET = 100  # the PostgreSQL target of a release: BASE_PORT + 100 + its row


def _stderr(msg: str) -> None:
    print(f"airflow-conformance: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- ports


def port_is_free(port: int) -> bool:
    """True if nothing listens on (or holds) 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(avoid: set[int]) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port
    raise SuiteError("could not find a free TCP port on 127.0.0.1")


def _choose_port(spec: VersionSpec, port: int | None, database: str = "sqlite") -> int:
    if port is not None:
        if not 0 < port < 65536:
            raise ConfigError(f"--port {port} is not a TCP port number")
        if not port_is_free(port):
            raise ConfigError(f"port {port} on 127.0.0.1 is already in use; pass another --port or leave it out")
        return port
    try:
        default = BASE_PORT + supported().index(spec.version) + (POSTGRES_PORT_OFFSET if database != "sqlite" else 0)
    except ValueError:
        default = 0
    if default and port_is_free(default):
        return default
    return _free_port(set())


# ---------------------------------------------------------------- logs

_ERROR_WORDS = ("error", "exception", "traceback", "fatal", "critical")


def last_error_line(log: Path) -> str:
    """The last line of a log that looks like an error, else its last line."""
    try:
        lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return "no log written"
    lines = [ln for ln in lines if ln and not ln.startswith("====")]
    for ln in reversed(lines[-200:]):
        low = ln.lower()
        if any(w in low for w in _ERROR_WORDS) and not low.startswith("traceback"):
            return ln[:300]
    return lines[-1][:300] if lines else "empty log"


# ---------------------------------------------------------------- database init


def _run_init(
    cmd: list[str],
    *,
    env: dict[str, str],
    home: home_mod.Home,
    shown: str,
    ok_if: str | None = None,
    answers: str | None = None,
) -> None:
    """Run one `airflow ...` setup command, logging to logs/init.log (password never logged).

    `answers` go to the command's stdin. The command runs in a session of its own, without a
    controlling terminal, so a password prompt (getpass) reads them from stdin instead of /dev/tty:
    a password passed this way never appears on a command line other local users can read.
    """
    log = home.logs / "init.log"
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} airflow {shown}\n")
        fh.flush()
        try:
            proc = subprocess.run(
                cmd,
                env=env,
                cwd=str(home.path),
                input=answers or "",
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=INIT_TIMEOUT_S,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            raise ConfigError(f"`airflow {shown}` did not finish in {INIT_TIMEOUT_S} s (log: {log})") from None
        fh.write(proc.stdout)
    if proc.returncode != 0 and not (ok_if and ok_if in proc.stdout):
        raise ConfigError(f"`airflow {shown}` failed: {last_error_line(log)} (log: {log})")


def _initialize(spec: VersionSpec, home: home_mod.Home, airflow: str, env: dict[str, str], progress: Progress) -> None:
    """Create the database, the admin and role users and serialized DAGs once per home."""
    marker = home.initialized_marker
    try:
        state_of = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state_of = {}
    if state_of.get("version") == spec.version and (home.backend != "sqlite" or home.database.exists()):
        if not state_of.get("role_users"):  # a home initialised before role users existed
            _create_role_users(spec, home, airflow, env, progress)
        cheap = state_of.get("cheap_logins") or _cheap_logins(spec, home, airflow, env, progress)  # older homes
        marker.write_text(
            json.dumps({"version": spec.version, "role_users": True, "cheap_logins": cheap}), encoding="utf-8"
        )
        return
    started = time.monotonic()
    progress(f"initialising the Airflow {spec.version} database (airflow db {spec.db_command})")
    _run_init([airflow, "db", spec.db_command], env=env, home=home, shown=f"db {spec.db_command}")
    if spec.major == 2:
        _create_user(home, airflow, env, home_mod.ADMIN_USER, "Admin", home.password)
    _create_role_users(spec, home, airflow, env, progress)
    cheap = _cheap_logins(spec, home, airflow, env, progress)
    if spec.reserialize:
        _run_init([airflow, "dags", "reserialize"], env=env, home=home, shown="dags reserialize")
    marker.write_text(
        json.dumps({"version": spec.version, "role_users": True, "cheap_logins": cheap}), encoding="utf-8"
    )
    progress(f"database ready in {time.monotonic() - started:.0f} s")


def _cheap_logins(
    spec: VersionSpec, home: home_mod.Home, airflow: str, env: dict[str, str], progress: Progress
) -> bool:
    """Store the 2.x users' password hashes with few rounds (conformance.local.logins); whether that is done.

    A failure costs speed only (every request keeps its slow password check), so it is said and provisioning goes on.
    """
    if spec.major != 2:
        return True
    users = {home_mod.ADMIN_USER: home.password, **{u: home.role_passwords[u] for u in home_mod.ROLE_USERS[2].values()}}
    try:
        logins.cheapen(Path(airflow).parent / "python", env, home.path, users, home.logs / "init.log")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        progress(f"could not store cheap password hashes ({exc}); every API request keeps its slow password check")
        return False
    return True


def _create_user(home: home_mod.Home, airflow: str, env: dict[str, str], user: str, role: str, password: str) -> None:
    """`airflow users create` for one FAB user, the password on stdin (never on a command line)."""
    _run_init(
        [
            airflow,
            "users",
            "create",
            "-u",
            user,
            "-r",
            role,
            "-f",
            "Conformance",
            "-l",
            role,
            "-e",
            f"{user}@example.invalid",
        ],
        env=env,
        home=home,
        shown=f"users create -u {user} -r {role} (password on stdin)",
        ok_if="already exist",
        answers=f"{password}\n{password}\n",
    )


def _create_role_users(
    spec: VersionSpec, home: home_mod.Home, airflow: str, env: dict[str, str], progress: Progress
) -> None:
    """One user per built-in role (2.x FAB users; 3.x SimpleAuthManager users come from its settings)."""
    if spec.major != 2:
        return
    progress(f"creating one user per built-in role ({', '.join(home_mod.ROLE_USERS[2])})")
    # a fresh database knows only Admin until FAB syncs its built-in roles (the webserver does it at start)
    _run_init([airflow, "sync-perm"], env=env, home=home, shown="sync-perm")
    for role, user in home_mod.ROLE_USERS[2].items():
        _create_user(home, airflow, env, user, role, home.role_passwords[user])


# ---------------------------------------------------------------- readiness


def _component_cmd(spec: VersionSpec, airflow: str, component: str, port: int) -> list[str]:
    if component == "webserver":
        return [airflow, "webserver", "-p", str(port), "-H", "127.0.0.1", "-w", "2"]
    if component == "api-server":
        return [airflow, "api-server", "--port", str(port), "--host", "127.0.0.1"]
    return [airflow, component]


class _Api:
    """Minimal authenticated client: decides readiness and seeds the target's fixtures (conformance.local.fixtures)."""

    def __init__(self, target: LocalTarget) -> None:
        self.t = target
        self.s = requests.Session()
        self.s.trust_env = False  # never send a local check through a proxy
        self.token: str | None = None

    def get(self, path: str, *, auth: bool = False) -> requests.Response:
        return self.call("GET", path, auth=auth)

    def call(
        self, method: str, path: str, *, auth: bool = True, body: dict | None = None, params: dict | None = None
    ) -> requests.Response:
        """One request under the API root, as the admin unless `auth` is False (also seeds `up`'s fixtures)."""
        headers = {}
        kwargs: dict = {"json": body} if body is not None else {}
        if params:
            kwargs["params"] = params
        if auth and self.t.auth["kind"] == "jwt":
            if self.token is None:
                r = self.s.post(
                    f"{self.t.url}/auth/token",
                    timeout=10,
                    json={"username": self.t.auth["user"], "password": self.t.auth["password"]},
                )
                if r.status_code in (401, 403):
                    raise _Rejected(r.status_code, "POST /auth/token")
                if r.status_code not in (200, 201):
                    raise _NotYet(f"POST /auth/token answered {r.status_code}")
                self.token = r.json()["access_token"]
            headers["Authorization"] = f"Bearer {self.token}"
        elif auth:
            kwargs["auth"] = (self.t.auth["user"], self.t.auth["password"])
        return self.s.request(method, f"{self.t.api_root}{path}", headers=headers, timeout=10, **kwargs)


class _NotYet(Exception):
    pass


class _Rejected(Exception):
    """The API refused the generated credentials (may be transient while FAB syncs roles)."""

    def __init__(self, status: int, where: str) -> None:
        super().__init__(f"{status} on {where}")


def _db_has_probe(home: home_mod.Home) -> tuple[bool, bool]:
    """(probe DAG known, broken file recorded) read straight from SQLite.

    Used with --auth-config default, where the API rejects every credential.
    """
    try:
        con = sqlite3.connect(f"file:{home.database}?mode=ro", uri=True, timeout=5)
        try:
            dag = con.execute("select 1 from dag where dag_id = ?", (PROBE_DAG_ID,)).fetchone() is not None
            broken = any(str(r[0]).endswith(BROKEN_FILENAME) for r in con.execute("select filename from import_error"))
        finally:
            con.close()
    except sqlite3.Error:
        return False, False
    return dag, broken


class _Readiness:
    """The readiness steps of a starting target, each checked until it passes once.

    A step raises _NotYet (or a transient request error) while it does not hold and
    _Rejected when the API refuses the credentials; a passed step is not asked again,
    and the time it passed at goes to the progress output.
    """

    STEPS = ("version", "health", "dag", "import_error")

    def __init__(self, spec: VersionSpec, target: LocalTarget, home: home_mod.Home, progress: Progress) -> None:
        self.spec, self.target, self.home, self.progress = spec, target, home, progress
        self.api = _Api(target)
        self.started = time.monotonic()
        self.reached: dict[str, float] = {}

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def missing(self) -> str:
        return next(s for s in self.STEPS if s not in self.reached)

    def mark(self, step: str, text: str) -> None:
        if step not in self.reached:
            self.reached[step] = self.elapsed()
            self.progress(f"{text} after {self.reached[step]:.0f} s")

    def check(self) -> None:
        """Return when every step has passed; raise at the first that does not hold yet."""
        if "version" not in self.reached:
            self._version()
        if "health" not in self.reached:
            self._health()
        if self.target.auth_config == "default":
            self._probe_in_database()
        else:
            self._probe_over_api()

    def _version(self) -> None:
        target, spec = self.target, self.spec
        owner = processes.port_owner(target.port, processes.members(_groups(target)))
        if owner == "other":  # a child that began listening after the process snapshot (gunicorn's master): look again
            owner = processes.port_owner(target.port, processes.members(_groups(target)))
        if owner is None:
            raise _NotYet("nothing listens on the port yet")
        if owner == "other":
            raise ConfigError(
                f"port {target.port} was taken by another process while Airflow {spec.version} "
                f"started; run `up` again with a free --port"
            )
        r = self.api.get("/version")
        if r.status_code != 200:
            raise _NotYet(f"version endpoint answered {r.status_code}")
        served = r.json().get("version")
        self.mark("version", f"API answers (/api/{spec.api}/version reports {served})")

    def _health(self) -> None:
        url = f"{self.target.url}/health" if self.spec.major == 2 else f"{self.target.api_root}/monitor/health"
        body = self.api.s.get(url, timeout=10).json()
        if (body.get("scheduler") or {}).get("status") != "healthy":
            raise _NotYet("scheduler not healthy yet")
        self.mark("health", "scheduler healthy")

    def _probe_in_database(self) -> None:
        """With --auth-config default the API refuses every credential: read SQLite instead."""
        dag, broken = _db_has_probe(self.home)
        if not dag:
            raise _NotYet("probe DAG not parsed yet")
        self.mark("dag", f"probe DAG {PROBE_DAG_ID} parsed")
        if not broken:
            raise _NotYet("import error not recorded yet")
        self.mark("import_error", f"{BROKEN_FILENAME} recorded as import error")

    def _probe_over_api(self) -> None:
        if "dag" not in self.reached:
            r = self.api.get(f"/dags/{PROBE_DAG_ID}", auth=True)
            if r.status_code in (401, 403):
                raise _Rejected(r.status_code, f"/api/{self.spec.api}/dags")
            if r.status_code != 200:
                raise _NotYet("probe DAG not visible yet")
            self.mark("dag", f"probe DAG {PROBE_DAG_ID} visible")
        if "import_error" not in self.reached:
            r = self.api.get("/importErrors?limit=100", auth=True)
            files = [e.get("filename", "") for e in r.json().get("import_errors", [])] if r.status_code == 200 else []
            if not any(f.endswith(BROKEN_FILENAME) for f in files):
                raise _NotYet("import error not listed yet")
            self.mark("import_error", f"{BROKEN_FILENAME} listed in importErrors")


def _check_components(procs: dict[str, subprocess.Popen], home: home_mod.Home) -> None:
    """A component that exited while the target starts is a failed start: say why from its log."""
    for component, proc in procs.items():
        if proc.poll() is not None:
            log = home.component_log(component)
            raise ConfigError(
                f"airflow {component} exited during startup (code {proc.returncode}): "
                f"{last_error_line(log)} (log: {log})"
            )


def _wait_ready(
    spec: VersionSpec, target: LocalTarget, procs: dict[str, subprocess.Popen], home: home_mod.Home, progress: Progress
) -> None:
    """Poll the readiness steps every second until all pass.

    A start fails at once when a component exits or another process takes the port; refused
    credentials get REJECTED_GRACE_S (FAB may still be syncing roles); anything else waits up to
    READY_TIMEOUT_S.
    """
    steps = _Readiness(spec, target, home, progress)
    next_note = 20.0
    rejected_since: float | None = None
    while True:
        _check_components(procs, home)
        try:
            steps.check()
            return
        except _Rejected as exc:
            rejected_since = rejected_since or time.monotonic()
            if time.monotonic() - rejected_since > REJECTED_GRACE_S:
                raise ConfigError(
                    f"Airflow {spec.version} rejected the generated admin credentials ({exc}); "
                    f"remove {home.path} to start over with fresh ones"
                ) from None
        except (_NotYet, requests.RequestException, ValueError, KeyError, AttributeError):
            pass
        elapsed = steps.elapsed()
        if elapsed > READY_TIMEOUT_S:
            raise ConfigError(
                f"Airflow {spec.version} was not ready after {READY_TIMEOUT_S} s (waiting for: {steps.missing()}); "
                f"see the logs in {home.logs}"
            )
        if elapsed > next_note:
            progress(f"still waiting for Airflow {spec.version} ({elapsed:.0f} s)")
            next_note += 20
        time.sleep(1)


# ---------------------------------------------------------------- public API


def _groups(target: LocalTarget) -> dict[int, int]:
    return {pgid: target.starttimes.get(comp, 0) for comp, pgid in target.pgids.items()}


def _alive(target: LocalTarget) -> bool:
    server = postgres.Server.from_json(target.db_server) if target.db_server else None
    return (
        any(processes.is_alive(pid, target.starttimes.get(comp)) for comp, pid in target.pids.items())
        or bool(processes.members(_groups(target)))
        or (server is not None and postgres.is_alive(server))
    )


def start(
    version: str,
    *,
    port: int | None = None,
    python: str | None = None,
    auth_config: str = "conformance",
    database: str = "sqlite",
    progress: Progress = _stderr,
    settings: dict[str, str] | None = None,
) -> LocalTarget:
    """Start (or return the already running) local Airflow `version` on `database`; see the module docstring.

    `settings`: Airflow options over the home's own, as `AIRFLOW__SECTION__KEY` variables (the matrix's
    second pass turns `[core] test_connection` on this way); recorded in the state with the target.
    """
    processes.require_posix()
    spec = resolve(version)
    _check_choices(auth_config, database)
    settings = _check_settings(settings or {})
    key = target_key(spec.version, database)
    with state.locked(f"airflow-{key}"):
        existing = _reusable(spec, key, port, auth_config, progress, settings)
        if existing is not None:
            _seed(spec, existing, progress)
            return existing
        chosen = _choose_port(spec, port, database)
        venv = ensure_venv(
            spec, python=python, progress=progress, extras=("postgres",) if database == "postgres" else ()
        )
        home = home_mod.prepare(spec, database)
        target = LocalTarget(
            version=spec.version,
            url=f"http://127.0.0.1:{chosen}",
            api=spec.api,
            auth={
                "kind": "basic" if spec.major == 2 else "jwt",
                "user": home_mod.ADMIN_USER,
                "password": home.password,
            },
            roles=home_mod.role_identities(home, spec.major),
            home=str(home.path),
            venv=str(venv),
            auth_config=auth_config,
            started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            database=database,
            settings=dict(settings),
        )
        try:
            sql_conn = _start_database(target, home, chosen, progress)
            env = home_mod.environment(
                spec,
                home,
                port=chosen,
                log_ports=_log_ports(chosen),
                auth_config=auth_config,
                venv=venv,
                sql_conn=sql_conn,
            )
            env.update(settings)
            airflow = str(airflow_bin(venv))
            _initialize(spec, home, airflow, env, progress)
            if not port_is_free(chosen):  # taken while we were installing
                raise ConfigError(f"port {chosen} on 127.0.0.1 was taken meanwhile; run `up` again")
        except BaseException:
            _stop_target(target)
            state.remove(key)
            raise
        _launch(spec, target, home, airflow, env, progress)
        _seed(spec, target, progress)
        return target


def _seed(spec: VersionSpec, target: LocalTarget, progress: Progress) -> None:
    """The fixtures a ready target holds before any run (conformance.local.fixtures), on a fresh or a warm start.

    3.x only (2.x answers an empty queue with 200 and an empty list), and only where the API takes the
    admin's credentials (not with --auth-config default).
    """
    if spec.major != 3 or target.auth_config == "default":
        return
    try:
        fixtures.ensure_queued_asset_event(_Api(target), Path(target.home) / "dags", progress)
    except (_Rejected, _NotYet) as exc:
        progress(f"no queued asset event: {exc}")


def _check_choices(auth_config: str, database: str) -> None:
    if auth_config not in AUTH_CONFIGS:
        raise ConfigError(f"--auth-config must be one of {', '.join(AUTH_CONFIGS)}, not {auth_config!r}")
    if database not in DATABASES:
        raise ConfigError(f"--database must be one of {', '.join(DATABASES)}, not {database!r}")
    if database != "sqlite" and auth_config == "default":
        raise ConfigError(
            "--auth-config default is only available with --database sqlite (readiness is read "
            "from the SQLite file while the API refuses every credential)"
        )


def _check_settings(settings: dict[str, str]) -> dict[str, str]:
    """Only Airflow options: a variable that is not `AIRFLOW__SECTION__KEY` could point Airflow elsewhere."""
    wrong = [k for k in settings if not (k.startswith("AIRFLOW__") and k.count("__") >= 2 and k == k.upper())]
    if wrong:
        raise ConfigError(f"not Airflow options (AIRFLOW__SECTION__KEY): {', '.join(sorted(wrong))}")
    return dict(settings)


def _start_database(target: LocalTarget, home: home_mod.Home, api_port: int, progress: Progress) -> str | None:
    """Start the target's own PostgreSQL (recorded in the state at once, so `down` finds it); its SQLAlchemy URL.

    None for SQLite: Airflow's default file in the home. A cluster created anew means a new Airflow
    database, so the home's initialised marker goes too.
    """
    if target.database != "postgres":
        return None
    fresh = not home.initialized_marker.exists()
    server, created = postgres.start(
        target.key, home.path, _free_port({api_port}), home.component_log("postgres"), fresh=fresh, progress=progress
    )
    target.db_server = server.to_json()
    state.put(target)
    if created:
        home.initialized_marker.unlink(missing_ok=True)
    return postgres.connection_url(home.path, server.port)


def _reusable(
    spec: VersionSpec,
    key: str,
    port: int | None,
    auth_config: str,
    progress: Progress,
    settings: dict[str, str] | None = None,
) -> LocalTarget | None:
    """The recorded target `key` when it is up; the record of a crashed or interrupted `up` is cleared."""
    existing = state.get(key)
    if existing is None:
        return None
    if existing.ready and _alive(existing):
        if port is not None and port != existing.port:
            raise ConfigError(
                f"Airflow {spec.version} already runs on port {existing.port}; "
                f"run `airflow-conformance down --airflow {spec.version}` first to move it to {port}"
            )
        if existing.auth_config != auth_config:
            progress(
                f"Airflow {spec.version} is already running with --auth-config "
                f"{existing.auth_config}; run `down --airflow {spec.version}` first to change it"
            )
        if existing.settings != (settings or {}):
            progress(
                f"Airflow {spec.version} is already running with settings {existing.settings or 'of its home'}; "
                f"run `down --airflow {spec.version}` first to change them"
            )
        return existing
    _stop_target(existing)
    state.remove(key)
    return None


def _log_ports(api_port: int) -> tuple[int, int]:
    """Free ports for the worker and triggerer log servers, distinct from the API's and each other."""
    worker = _free_port({api_port})
    return worker, _free_port({api_port, worker})


def _launch(
    spec: VersionSpec, target: LocalTarget, home: home_mod.Home, airflow: str, env: dict[str, str], progress: Progress
) -> None:
    """Start every component and wait until the target is ready; on any failure stop what was started."""
    target.page_limits = dict(home_mod.PAGE_LIMITS)  # what home.environment configures: the run judges paging by it
    procs: dict[str, subprocess.Popen] = {}
    launched = time.monotonic()
    try:
        progress(f"starting Airflow {spec.version} ({', '.join(spec.components)}) on {target.url}; logs in {home.logs}")
        for component in spec.components:
            proc = processes.spawn(
                _component_cmd(spec, airflow, component, target.port),
                env=env,
                cwd=home.path,
                log=home.component_log(component),
            )
            procs[component] = proc
            target.pids[component] = proc.pid
            target.pgids[component] = proc.pid  # new session: the group id is the PID
            target.starttimes[component] = processes.starttime(proc.pid) or 0
        state.put(target)  # recorded before waiting, so `down` can clean up an interrupted `up`
        _wait_ready(spec, target, procs, home, progress)
    except BaseException:
        _stop_target(target)
        state.remove(target.key)
        raise
    target.ready = True
    state.put(target)
    progress(f"Airflow {spec.version} ready in {time.monotonic() - launched:.0f} s after launch")


def _stop_target(target: LocalTarget) -> None:
    """Stop Airflow's process groups, then (its clients gone) the target's PostgreSQL server by its recorded PID."""
    left = processes.terminate(_groups(target))
    server = postgres.Server.from_json(target.db_server) if target.db_server else None
    if server is not None:
        left |= postgres.stop(server)
    if left:
        raise SuiteError(f"could not stop processes {sorted(left)} of Airflow {target.version}")


def stop(version: str, database: str = "sqlite") -> bool:
    """Stop the local Airflow `version` on `database`; False if it was not recorded as running."""
    key = target_key(version, database)
    with state.locked(f"airflow-{key}"):
        target = state.get(key)
        if target is None:
            return False
        _stop_target(target)
        state.remove(key)
        return True


def running() -> list[LocalTarget]:
    """Targets whose processes are alive; entries whose processes are all gone are pruned."""
    alive = []
    for key, target in state.load_all().items():
        if _alive(target):
            alive.append(target)
        else:
            state.remove(key)
    return sorted(alive, key=lambda t: (tuple(int(p) for p in t.version.split(".") if p.isdigit()), t.database))


def _normalise(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host in ("localhost", "::1", "0.0.0.0"):
        host = "127.0.0.1"
    return host, parts.port


def find_by_url(url: str) -> LocalTarget | None:
    """The running local target serving `url` (any path under it, localhost or 127.0.0.1)."""
    wanted = _normalise(url)
    for target in running():
        if _normalise(target.url) == wanted:
            return target
    return None
