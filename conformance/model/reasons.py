"""Why a result was skipped or could not be decided, as codes code can read.

The message says it to a person and may change wording; the code is what the
matrix, a dashboard or a gate reads (design: "every skipped, refused or
undecided result carries a reason_code, and code that classifies results reads
codes, never message wording").
"""

from __future__ import annotations

from enum import Enum


class ReasonCode(str, Enum):
    """Stable names (results.json `reason_code`)."""

    # skipped: the check does not apply, or this run may not decide it
    NOT_APPLICABLE = "not_applicable"  # another Airflow version range
    PROFILE = "profile"  # needs a more permissive --profile
    AUTH_DEFAULT = "auth_default"  # needs a target with Airflow's default auth settings
    DENY_ALL = "deny_all"  # the target refuses valid credentials by configuration
    PRIVILEGE = "privilege"  # the run's own identity lacks a permission the check needs
    PROBE_DAGS = "probe_dags"  # the suite's probe DAGs are not deployed
    REFUSED_BY_GUARD = "refused_by_guard"  # the safety guard kept the requests back
    DISRUPTIVE_ONLY = (
        "disruptive_only"  # the guard sends them only in the disruptive profile (users, roles, whole collections)
    )
    NOTHING_GENERATED = "nothing_generated"  # no request could be generated for the operation
    NO_DATA = "no_data"  # the target holds no data that could show the effect (effects tier, paging)
    NOT_EXERCISED = "not_exercised"  # an operation no selected check verifies (results.json `operations`)
    NO_ROLE_MODEL = "no_role_model"  # no permission requirement is recorded for the release or the operation
    NO_OBJECT = "no_object"  # no object of the run to aim at, and the server answers 404 before it checks permissions
    AUTH_SCHEME = "auth_scheme"  # needs credentials of another scheme (--auth jwt:USER:PASS)
    PROBE_RUN = "probe_run"  # the probe DAG's run the check reads did not succeed
    UNSTABLE = "unstable"  # the target's data changed while the check read it, each time it tried
    SETTING_OFF = "setting_off"  # a target setting answers before the permission check ([core] test_connection off)
    CLIENT_NO_MODEL = "client_no_model"  # the official client declares no model for the answer's status
    # error: the suite could not decide
    SETUP_ERROR = "setup_error"
    TEARDOWN_ERROR = "teardown_error"
    EXCEPTION = "exception"  # the check stopped on an exception that is not a contract violation
    CHECK_CRASHED = "check_crashed"  # a response check crashed on an answer
    CASE_UNHANDLED = "case_unhandled"  # a generated case the suite could not check
    CREDENTIALS_REFUSED = "credentials_refused"  # every authenticated request answered 401
    NO_ANSWER = "no_answer"  # requests got no answer (timeout, connection)
    SCHEDULER_NOT_RUNNING = (
        "scheduler_not_running"  # a wait on the scheduler given up: the target's health says it is down
    )
    CLIENT_UNAVAILABLE = "client_unavailable"  # an official client could not be installed or could not read at all

    def __str__(self) -> str:
        return self.value
