"""Rerunnable benchmark of the suite against one real local Airflow.

    python -m tests.benchmark [--airflow 2.10.5] [--max-examples 10] [--workers 4] [--out reports/benchmark.json]

Measured in one run against the same target:
- the server-bound rate: concurrent authenticated GET list requests, as fast as the server answers;
- the property tier's throughput (requests/s) with 1 and N workers (readonly profile);
- wall time and request count of a readonly run and of a default (sandbox) run;
- the suite's peak RSS (the `run` child process, from wait4's rusage);
- raw schemathesis (its CLI) on exactly the operations the readonly property tier exercised,
  with the same example budget and workers.
Figures are printed as a Markdown table of ratios for docs/benchmark.md and written to --out.
Targets (issue #27): property tier >= 0.9 x server-bound rate with workers; wall time <= 0.8 x raw
schemathesis; RSS <= 200 MiB; readonly run <= 45 s, default run <= 120 s. Nothing here asserts them: this
measures, docs/benchmark.md reports.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.targets import TargetPool


def _timed_child(
    cmd: list[str], env: dict | None = None, timeout: float = 3600, cwd: str | None = None
) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS MiB, tail of stdout+stderr) of one child process."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env or dict(os.environ), stdout=err, stderr=subprocess.STDOUT, cwd=cwd)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
            time.sleep(0.05)
        wall = time.monotonic() - started
        err.seek(0)
        tail = err.read().decode(errors="replace")[-3000:]
    return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024, tail


def _headers(live) -> dict:
    user, password = live.user, live.password
    if live.api == "v1":
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    token = requests.post(f"{live.url}/auth/token", json={"username": user, "password": password}, timeout=30).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def server_bound_rate(live, workers: int, seconds: float = 15.0) -> float:
    """Requests/s the server sustains for authenticated GET /dags?limit=5 from `workers` threads."""
    url, headers = f"{live.url}/api/{live.api}/dags", _headers(live)
    count, lock, stop = [0], threading.Lock(), time.monotonic() + seconds

    def worker():
        with requests.Session() as s:
            s.headers.update(headers)
            while time.monotonic() < stop:
                if s.get(url, params={"limit": 5}, timeout=30).status_code == 200:
                    with lock:
                        count[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / (time.monotonic() - started)


def suite_run(live, out: Path, *args: str) -> dict:
    env = dict(os.environ, AIRFLOW_CONFORMANCE_AUTH=live.auth_spec)
    code, wall, rss, tail = _timed_child(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--target",
            live.url,
            "--report-dir",
            str(out),
            "--seed",
            "7",
            *args,
        ],
        env=env,
    )
    data = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    summary = data.get("summary", {})
    return {
        "exit": code,
        "wall_s": round(wall, 1),
        "rss_mib": round(rss, 1),
        "requests": summary.get("requests", 0),
        "suite_duration_s": data.get("duration_s"),
        "summary": summary,
        "stderr": tail if code > 1 else "",
        "exercised": sorted(op for op, o in data.get("operations", {}).items() if o["status"] != "skipped"),
    }


def raw_schemathesis(live, operations: list[str], max_examples: int, workers: int) -> dict:
    from conformance.specs.catalog import load_spec, reference_version_for  # noqa: PLC0415

    spec = load_spec(reference_version_for(live.version))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    base = f"{live.url}/api/v1" if live.api == "v1" else live.url
    header = next(iter(_headers(live).items()))
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        fh.name,
        "--url",
        base,
        "-n",
        str(max_examples),
        "-w",
        str(workers),
        "--phases",
        "fuzzing",
        "--seed",
        "7",
        "-H",
        f"{header[0]}: {header[1]}",
        # like the suite: every example of every operation is sent, a failure does not end the operation
        "--max-failures",
        "100000",
        "--continue-on-failure",
    ]
    for op in operations:
        cmd += ["--include-operation-id", op]
    with tempfile.TemporaryDirectory() as scratch:  # schemathesis writes a .schemathesis/ folder in its cwd
        code, wall, rss, tail = _timed_child(cmd, cwd=scratch)
    os.unlink(fh.name)
    generated = re.search(r"(\d+) generated", tail)
    return {
        "exit": code,
        "wall_s": round(wall, 1),
        "rss_mib": round(rss, 1),
        "test_cases": int(generated.group(1)) if generated else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--airflow", default="2.10.5")
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--out", default="reports/benchmark.json")
    args = parser.parse_args()
    pool = TargetPool()
    try:
        live = pool.get(args.airflow)
        tmp = Path(tempfile.mkdtemp(prefix="acf-bench-"))
        print(f"benchmark against Airflow {live.version} at {live.url}", file=sys.stderr)
        server = server_bound_rate(live, args.workers)
        print(f"server-bound rate: {server:.1f} req/s", file=sys.stderr)
        props = {}
        for w in (1, args.workers):
            r = suite_run(
                live,
                tmp / f"props-{w}",
                "--only",
                "properties",
                "--profile",
                "readonly",
                "--max-examples",
                str(args.max_examples),
                "--workers",
                str(w),
            )
            r["rps"] = round(r["requests"] / r["suite_duration_s"], 1) if r["suite_duration_s"] else 0.0
            props[w] = r
            print(
                f"property tier, {w} worker(s): {r['rps']} req/s, {r['wall_s']} s, {r['rss_mib']} MiB", file=sys.stderr
            )
        readonly = suite_run(
            live,
            tmp / "readonly",
            "--profile",
            "readonly",
            "--max-examples",
            str(args.max_examples),
            "--workers",
            str(args.workers),
        )
        default = suite_run(
            live, tmp / "default", "--max-examples", str(args.max_examples), "--workers", str(args.workers)
        )
        raw = raw_schemathesis(live, props[args.workers]["exercised"], args.max_examples, args.workers)
        print(
            f"raw schemathesis: {raw['wall_s']} s, {raw['test_cases']} test cases, exit {raw['exit']}", file=sys.stderr
        )
    finally:
        pool.stop_started()
    best = props[args.workers]
    figures = {
        "airflow": live.version,
        "max_examples": args.max_examples,
        "workers": args.workers,
        "server_bound_rps": round(server, 1),
        "property_rps": {str(k): v["rps"] for k, v in props.items()},
        "property_vs_server": round(best["rps"] / server, 2) if server else None,
        "suite_property_wall_s": best["wall_s"],
        "suite_property_requests": best["requests"],
        "schemathesis_wall_s": raw["wall_s"],
        "schemathesis_test_cases": raw["test_cases"],
        "suite_vs_schemathesis_wall": round(best["wall_s"] / raw["wall_s"], 2) if raw["wall_s"] else None,
        "readonly_run": {k: readonly[k] for k in ("exit", "wall_s", "requests", "rss_mib")},
        "default_run": {k: default[k] for k in ("exit", "wall_s", "requests", "rss_mib")},
        "peak_rss_mib": max(r["rss_mib"] for r in (*props.values(), readonly, default)),
        "operations_compared": len(best["exercised"]),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"""
| measure (Airflow {live.version}, {args.workers} workers, {args.max_examples} examples/op) | figure | target |
|---|---|---|
| property tier / server-bound rate | {figures["property_vs_server"]} ({best["rps"]} / {server:.1f} req/s) | ≥ 0.9 |
| suite wall / raw schemathesis wall ({figures["operations_compared"]} operations) | {figures["suite_vs_schemathesis_wall"]} ({best["wall_s"]} s, {best["requests"]} requests / {raw["wall_s"]} s, {raw["test_cases"]} test cases) | ≤ 0.8 |
| peak RSS of the suite | {figures["peak_rss_mib"]} MiB | ≤ 200 MiB |
| readonly run | {readonly["wall_s"]} s, {readonly["requests"]} requests | ≤ 45 s |
| default (sandbox) run | {default["wall_s"]} s, {default["requests"]} requests | ≤ 120 s |
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
