"""A bounded load test of the trial-conduct app on loopback (issue 15): a real `adcbridge serve`, many parallel
clients, every request's latency, and the database checked afterwards (no request lost, no patient lost or
duplicated, cohorts never over the design's size, one decision per history, one whole audit chain).

Each client is a thread with its own HTTP connection; all start together at a barrier and send their requests one
after the other: mostly enrolments of new patients (a few trials, clients spread over them), the same patient id
tried by several clients on every trial (exactly one may get 201, the others 409), and requests for the decision
(which store a decision when a cohort is whole).  Only 127.0.0.1 is ever contacted; the number of requests is
fixed.

    python benchmarks/bench_conduct_load.py [--db sqlite] [--db URL] [--clients 50] [--requests 8] [--trials 5]
                                            [--write]

``--db sqlite`` (the default) is a new SQLite file in a temporary folder; with a PostgreSQL URL the tables are made
in a new schema of that database, dropped at the end.  ``--write`` records the results in benchmarks/RESULTS.md.
The test suite runs a small version through :func:`run_load` and :func:`check` (tests/app/test_conduct_load.py).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

DESIGN = {"name": "boin", "target": 0.3, "doses": [1.0, 2.1, 4.2, 5.2, 6.3, 7.3, 8.4], "cohort_size": 3,
          "cohorts": 40}
ROLES = ("statistician", "investigator", "safety-reviewer")


@dataclass
class Load:
    """What the clients sent and got: one ``(kind, trial id, patient, status, seconds, body)`` per request
    (status None when no answer came), and the trials used."""

    trials: list[int]
    requests: list[tuple] = field(default_factory=list)

    def latencies(self) -> list[float]:
        return sorted(r[4] for r in self.requests)

    def percentile(self, q: float) -> float:
        lat = self.latencies()
        return lat[min(len(lat) - 1, max(0, int(round(q / 100 * len(lat) + 0.5)) - 1))]


def add_users(db_url: str, password: str) -> None:
    """Migrate the database and add one user per role in :data:`ROLES` (username: the role, '-' as '_')."""
    from adcbridge.conduct.db import connect, session_factory, upgrade
    from adcbridge.conduct.users import create_user
    upgrade(db_url)
    engine = connect(db_url)
    with session_factory(engine).begin() as s:
        for role in ROLES:
            create_user(s, role.replace("-", "_"), role, password)
    engine.dispose()


def tokens(base: str, password: str) -> dict[str, dict]:
    """A bearer header per role (one login each)."""
    import httpx
    out = {}
    for role in ROLES:
        r = httpx.post(f"{base}/api/token", data={"username": role.replace("-", "_"), "password": password})
        r.raise_for_status()
        out[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return out


def new_trials(base: str, headers: dict, n: int) -> list[int]:
    """``n`` active BOIN trials (the statistician's headers)."""
    import httpx
    ids = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for k in range(n):
            r = http.post("/api/trials", json={"name": f"load {k + 1} {time.time_ns()}", "design": DESIGN})
            r.raise_for_status()
            ids.append(r.json()["id"])
            http.post(f"/api/trials/{ids[-1]}/activate").raise_for_status()
    return ids


def run_load(base: str, headers: dict[str, dict], trials: list[int], clients: int = 50, per_client: int = 4,
             timeout: float = 120.0) -> Load:
    """``clients`` threads, each sending ``per_client`` requests in turn to ``base`` (started together).

    Client ``c`` works on trial ``trials[c % len(trials)]``: its first request enrols the patient ``SAME`` (every
    client of a trial tries it), every fourth asks for the decision (the safety reviewer), the others enrol a new
    patient ``C<c>-<k>`` at dose level 1 (one a trial with a DLT: never enough for the design to stop
    the trial)."""
    import httpx
    load = Load(trials=list(trials))
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(c: int) -> None:
        trial = trials[c % len(trials)]
        with httpx.Client(base_url=base, timeout=timeout) as http:
            barrier.wait()
            for k in range(per_client):
                if k == 0:
                    kind, patient = "enrol-same", "SAME"
                elif k % 4 == 3:
                    kind, patient = "decision", None
                else:
                    kind, patient = "enrol", f"C{c:03d}-{k}"
                t = time.perf_counter()
                try:
                    if patient is None:
                        r = http.get(f"/api/trials/{trial}/decision", headers=headers["safety-reviewer"])
                    else:
                        r = http.post(f"/api/trials/{trial}/patients", headers=headers["investigator"],
                                      json={"patient": patient, "dose": 1, "dlt": k == 1 and c < len(trials)})
                    status, body = r.status_code, r.json()
                except httpx.HTTPError as exc:
                    status, body = None, str(exc)
                with lock:
                    load.requests.append((kind, trial, patient, status, time.perf_counter() - t, body))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 60)
    return load


def check(db_url: str, load: Load, expected: int, cohort_size: int = 3) -> list[str]:
    """What is wrong after the load (an empty list when nothing is): requests without an answer or with an
    unexpected status, patients lost or duplicated, cohorts over the design's size, two decisions on one history,
    a broken audit chain."""
    from adcbridge.conduct.audit import verify_chain
    from adcbridge.conduct.db import connect, session_factory
    from adcbridge.conduct.models import Decision, Event, Patient
    problems = []
    if len(load.requests) != expected:
        problems.append(f"{len(load.requests)} requests answered or failed, {expected} sent")
    allowed = {"enrol": {201}, "enrol-same": {201, 409}, "decision": {200, 409}}
    for kind, trial, patient, status, _, body in load.requests:
        if status not in allowed[kind]:
            problems.append(f"{kind} {patient or ''} on trial {trial}: status {status}: {str(body)[:200]}")
    engine = connect(db_url)
    try:
        with session_factory(engine)() as s:
            for trial in load.trials:
                sent = [r for r in load.requests if r[1] == trial and r[0].startswith("enrol")]
                created = sorted(r[2] for r in sent if r[3] == 201)
                ids = [r[5]["id"] for r in sent if r[3] == 201]
                rows = s.query(Patient).filter(Patient.trial_id == trial).order_by(Patient.id).all()
                stored = sorted(p.patient for p in rows)
                if stored != created or sorted(ids) != sorted(p.id for p in rows):
                    problems.append(f"trial {trial}: the patients stored ({len(rows)}) are not those enrolled with "
                                    f"201 ({len(created)})")
                if sum(1 for r in sent if r[2] == "SAME" and r[3] == 201) != 1:
                    problems.append(f"trial {trial}: the patient SAME was enrolled "
                                    f"{sum(1 for r in sent if r[2] == 'SAME' and r[3] == 201)} times")
                sizes = Counter(p.cohort for p in rows)
                if sizes and (max(sizes.values()) > cohort_size or sorted(sizes) != list(range(1, len(sizes) + 1))
                              or any(sizes[c] != cohort_size for c in sorted(sizes)[:-1])):
                    problems.append(f"trial {trial}: cohorts {dict(sorted(sizes.items()))}")
                decisions = s.query(Decision).filter(Decision.trial_id == trial).all()
                if len({d.history_hash for d in decisions}) != len(decisions):
                    problems.append(f"trial {trial}: two decisions on one history")
                for d in decisions:
                    history = json.loads(d.record)["history"]
                    if Counter(p["cohort"] for p in history)[history[-1]["cohort"]] != cohort_size:
                        problems.append(f"trial {trial}: decision {d.id} on part of a cohort")
                given = {r[5]["decision_id"] for r in load.requests if r[1] == trial and r[0] == "decision"
                         and r[3] == 200}
                if not given <= {d.id for d in decisions}:
                    problems.append(f"trial {trial}: decisions given that are not stored: {given}")
            enrolled = s.query(Event).filter(Event.action == "enrol_patient").count()
            if enrolled != s.query(Patient).count():
                problems.append(f"{enrolled} enrolment events for {s.query(Patient).count()} patients")
            report = verify_chain(s)
            if not report.ok:
                problems.append(f"audit chain broken at event {report.broken_id}: {report.reason}")
    finally:
        engine.dispose()
    return problems


@contextlib.contextmanager
def _database(url: str | None, tmp):
    """A new SQLite file in ``tmp`` (no ``url``), or a new schema in the PostgreSQL database at ``url``."""
    if url is None:
        yield f"sqlite:///{tmp / 'load.db'}"
        return
    import secrets

    from sqlalchemy import create_engine
    engine = create_engine(url)
    schema = f"bench_{secrets.token_hex(6)}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield engine.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


def _serve(db_url: str, port: int, secret: str):
    import os
    import subprocess
    import sys
    from pathlib import Path
    exe = str(Path(sys.executable).with_name("adcbridge"))
    return subprocess.Popen([exe, "serve", "--db", db_url, "--port", str(port)], env={**os.environ,
                            "ADCBRIDGE_SECRET": secret}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure(db: str | None, clients: int, per_client: int, n_trials: int) -> dict:
    """One load run on a new database (``db``: None for SQLite, else a PostgreSQL URL): the database's name, p50,
    p95 and max latency (ms), requests per second, the statuses and the problems found."""
    import secrets
    import socket
    import tempfile
    from pathlib import Path

    import httpx
    with tempfile.TemporaryDirectory() as tmp, _database(db, Path(tmp)) as db_url:
        kind = "SQLite"
        if db_url.startswith("postgresql"):
            from sqlalchemy import create_engine
            engine = create_engine(db_url)
            with engine.connect() as conn:
                kind = f"PostgreSQL {conn.exec_driver_sql('SHOW server_version').scalar_one().split()[0]}"
            engine.dispose()
        password = secrets.token_urlsafe(18)
        add_users(db_url, password)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = _serve(db_url, port, secrets.token_hex(32))
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/openapi.json")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            headers = tokens(base, password)
            trials = new_trials(base, headers["statistician"], n_trials)
            t = time.perf_counter()
            load = run_load(base, headers, trials, clients, per_client)
            wall = time.perf_counter() - t
        finally:
            server.terminate()
            server.wait(timeout=30)
        problems = check(db_url, load, clients * per_client)
    statuses = Counter(r[3] for r in load.requests)
    n = len(load.requests)
    p50, p95, top = (x * 1000 for x in (load.percentile(50), load.percentile(95), load.latencies()[-1]))
    print(f"{kind}: {n} requests from {clients} clients in {wall:.2f} s; p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
          f"max {top:.0f} ms; statuses {dict(statuses)}")
    for problem in problems:
        print("PROBLEM:", problem)
    return {"kind": kind, "n": n, "p50": p50, "p95": p95, "max": top, "rate": n / wall, "statuses": statuses,
            "problems": problems}


def main() -> int:
    import argparse
    import os
    import platform
    from datetime import date
    from pathlib import Path

    import adcbridge
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", default=None,
                        help="'sqlite' (a new SQLite file) or a PostgreSQL URL; may be given twice (default: sqlite)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=8, help="requests per client")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1, help="runs per database (the median run is recorded)")
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/RESULTS.md")
    args = parser.parse_args()
    rows, failed = [], False
    for db in args.db or ["sqlite"]:
        runs = [measure(None if db == "sqlite" else db, args.clients, args.requests, args.trials)
                for _ in range(args.repeats)]
        failed |= any(r["problems"] for r in runs)
        r = sorted(runs, key=lambda r: r["p95"])[len(runs) // 2]             # the median run (by p95)
        spread = (f" ({min(x['p95'] for x in runs):.0f}-{max(x['p95'] for x in runs):.0f})"
                  if len(runs) > 1 else "")
        rows.append(f"| {r['kind']} | {args.clients} | {r['n']} | {r['p50']:.0f} | {r['p95']:.0f}{spread} | "
                    f"{r['max']:.0f} | {r['rate']:.0f} | "
                    f"{', '.join(f'{k}: {v}' for k, v in sorted(r['statuses'].items(), key=str))} | "
                    f"{sum(len(x['problems']) for x in runs) or 'none'} |")
    if args.write:
        import sys
        sys.path.insert(0, str(Path(__file__).parent))
        from benchkit import write_section
        dbs = " ".join(f"--db {'sqlite' if db == 'sqlite' else 'postgresql+psycopg://...'}"
                       for db in args.db or ["sqlite"])
        text = (f"`python benchmarks/bench_conduct_load.py --clients {args.clients} --requests {args.requests} "
                f"--trials {args.trials} --repeats {args.repeats} {dbs} --write`\n\n"
                f"adcbridge {adcbridge.__version__}, Python {platform.python_version()}, {platform.machine()}, "
                f"{os.cpu_count()} cores, {date.today().isoformat()}.  A real `adcbridge serve` (one uvicorn worker) "
                f"on 127.0.0.1, the clients in the same machine; the database server too (PostgreSQL: Debian's, "
                f"default settings).  Latency of each request as its client saw it, in ms (queueing behind the "
                f"other clients included); the median of {args.repeats} runs by p95, with the range of p95 over "
                f"the runs in brackets; problems counted over all runs.\n\n"
                f"| database | clients | requests | p50 | p95 | max | requests/s | statuses | problems |\n"
                f"|---|---:|---:|---:|---:|---:|---:|---|---|\n" + "\n".join(rows))
        write_section("conduct_load", "Conduct app under load (issue 15)", text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
