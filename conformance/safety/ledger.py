"""The on-disk record of every object a run created.

Appended line by line (JSON Lines, flushed and fsynced) as soon as the
server confirms a creation, so a crash or Ctrl-C never loses track of what
must be deleted; `cleanup` and the end of a run both read it back.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from conformance.model.resources import OWNED_KINDS
from conformance.paths import cache_dir

# the path parameter that names an object of each ledger kind (the guard and the tracker both read it)
PARAM_KINDS = {k.param: k.kind for k in OWNED_KINDS}


@dataclass(frozen=True)
class Entry:
    """One object the run created. `key` identifies it within its kind."""

    kind: str  # an owned kind (conformance.model.resources: variable, pool, ...), dag_run or backfill
    key: str
    dag_id: str = ""

    def ident(self) -> tuple[str, str, str]:
        return (self.kind, self.dag_id, self.key)


def ledger_dir() -> Path:
    path = cache_dir() / "ledgers"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Ledger:
    """Created and deleted objects of one run, persisted as events."""

    def __init__(self, run_id: str, path: Path | None = None) -> None:
        self.run_id = run_id
        self.path = path or ledger_dir() / f"{run_id}.jsonl"
        self._lock = threading.Lock()
        self._live: dict[tuple[str, str, str], Entry] = {}
        self._extra: dict[str, object] = {}
        if self.path.exists():
            self._replay()

    def _replay(self) -> None:
        for line in self.path.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn last line after a crash
            if event.get("event") == "note":
                self._extra[event["name"]] = event["value"]
                continue
            entry = Entry(event["kind"], event["key"], event.get("dag_id", ""))
            if event.get("event") == "created":
                self._live[entry.ident()] = entry
            else:
                self._live.pop(entry.ident(), None)

    def _append(self, event: dict) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(event, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def created(self, entry: Entry) -> None:
        with self._lock:
            if entry.ident() in self._live:
                return
            self._live[entry.ident()] = entry
            self._append({"event": "created", **asdict(entry)})

    def deleted(self, entry: Entry) -> None:
        with self._lock:
            if self._live.pop(entry.ident(), None) is not None:
                self._append({"event": "deleted", **asdict(entry)})

    def note(self, name: str, value: object) -> None:
        """Remember run-level facts cleanup needs (e.g. the probe DAGs' original pause state)."""
        with self._lock:
            if name not in self._extra:
                self._extra[name] = value
                self._append({"event": "note", "name": name, "value": value})

    def noted(self, name: str, default: object = None) -> object:
        return self._extra.get(name, default)

    def note_pause_state(self, dag_id: str, paused: bool) -> None:
        """A probe DAG's pause state at the start of the run: the one cleanup puts back."""
        self.note(f"paused:{dag_id}", bool(paused))

    def pause_state(self, dag_id: str) -> bool | None:
        """The pause state noted at the start of the run; None when the DAG was not found then."""
        value = self.noted(f"paused:{dag_id}")
        return None if value is None else bool(value)

    def contains(self, kind: str, key: str, dag_id: str = "") -> bool:
        return (kind, dag_id, key) in self._live

    def live(self) -> list[Entry]:
        """Objects still to delete, newest first (runs before the pools they used)."""
        with self._lock:
            return list(reversed(list(self._live.values())))

    def discard_file(self) -> None:
        """Drop the ledger once everything in it is gone."""
        if not self._live and self.path.exists():
            self.path.unlink()
