"""bench/identity: logins/s and the cost of verifying an access token, in one run.

1. identity runs under gunicorn exactly as deployed (schoolkit.gunicorn_conf, 2 workers
   x 4 threads) on a fresh PostgreSQL database. Closed-loop clients sign in with the
   password grant (every login one Argon2id verification at t=2, m=19 MiB, plus its
   session, refresh token and audit rows): logins/s, against what Argon2id alone allows
   on this machine (one process's verifications/s x the cores).
2. A service built by the kit like the journal (probe.py) runs under gunicorn the same
   way, its TokenVerifier fetching identity's JWKS over HTTP and its deny-list reading
   the kit's tables in its own PostgreSQL database. Closed-loop clients call the same
   minimal view with and without `require_auth`, with real access tokens from identity,
   alternating in rounds: requests/s of both and their ratio (target >= 0.85, i.e.
   verification costs < 15% of a minimal authenticated request). Measured as deployed
   (the verifier remembers the tokens it verified, the way clients send them: the same
   token with every request) and again with TOKEN_CACHE_SIZE=0, where every request's
   signature and claims are checked anew (the cost of a token's first request).

Run: `.venv/bin/python bench/identity/run.py` (options: --seconds, --rounds).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

from identity.bootstrap import ensure_admin  # noqa: E402
from identity.passwords import hash_password, password_matches  # noqa: E402
from schoolkit.db import Database  # noqa: E402
from schoolkit.migrate import upgrade  # noqa: E402
from schoolkit.tables import kit_metadata  # noqa: E402
from schoolkit.testing import (  # noqa: E402
    create_database,
    drop_database,
    free_port,
    require_postgres,
    wait_until_answering,
)

BIN = Path(sys.executable).parent
CLIENTS = 4
ACCOUNTS = 8
PASSWORD = "Скамейка у школы 2026"  # noqa: S105 - the bench's own throwaway accounts
SCHOOL = "school-1"
Request = tuple[str, str, bytes | None, dict[str, str]]


# --- the processes ------------------------------------------------------------------------


def start_gunicorn(app: str, port: int, **environment: str) -> subprocess.Popen[bytes]:
    command = [str(BIN / "gunicorn"), "-c", "python:schoolkit.gunicorn_conf", app]
    env = {**os.environ, "BIND": f"127.0.0.1:{port}", "LOG_LEVEL": "WARNING", **environment}
    return subprocess.Popen(command, env=env)


def prepare_identity(database_url: str) -> None:
    upgrade("identity", database_url)
    database = Database(database_url)
    for number in range(ACCOUNTS):
        ensure_admin(database, f"bench-{number}", PASSWORD, SCHOOL)
    database.dispose()


def prepare_service(database_url: str) -> None:
    database = Database(database_url)
    kit_metadata.create_all(database.engine)  # the deny-list's tables
    database.dispose()


# --- the load -----------------------------------------------------------------------------


def login_request(number: int) -> Request:
    form = {
        "grant_type": "password",
        "username": f"bench-{number % ACCOUNTS}",
        "password": PASSWORD,
        "client_id": "web",
        "school_id": SCHOOL,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return ("POST", "/api/identity/oauth/token", urllib.parse.urlencode(form).encode(), headers)


def _closed_loop(arguments: tuple[int, list[Request], float]) -> tuple[int, dict[int, int]]:
    port, requests, seconds = arguments
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done, failed = 0, Counter[int]()
    deadline = time.perf_counter() + seconds
    index = os.getpid()
    while time.perf_counter() < deadline:
        method, path, body, headers = requests[index % len(requests)]
        index += 1
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            done += 1
        else:
            failed[response.status] += 1
    return done, dict(failed)


def throughput(
    pool: multiprocessing.pool.Pool, port: int, requests: list[Request], seconds: float
) -> float:
    results = pool.map(_closed_loop, [(port, requests, seconds)] * CLIENTS)
    failed = sum((Counter(r[1]) for r in results), Counter[int]())
    if failed:
        raise RuntimeError(f"answers other than 200 by status: {dict(failed)}")
    return sum(r[0] for r in results) / seconds


def access_tokens(port: int, count: int) -> list[str]:
    tokens = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for number in range(count):
        method, path, body, headers = login_request(number)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        tokens.append(json.loads(response.read())["access_token"])
    return tokens


def argon2_verifications_per_second(seconds: float = 3.0) -> float:
    stored = hash_password(PASSWORD)
    started, done = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        password_matches(stored, PASSWORD)
        done += 1
    return done / (time.perf_counter() - started)


def verification_ratio(
    pool: multiprocessing.pool.Pool, port: int, tokens: list[str], seconds: float, rounds: int
) -> tuple[float, float, float]:
    """Both variants carry the same Authorization header; only the view's guard differs."""
    signed_in = [
        ("GET", "/api/journal/v1/probe/signed-in", None, {"Authorization": f"Bearer {token}"})
        for token in tokens
    ]
    open_ = [("GET", "/api/journal/v1/probe/open", None, headers) for *_, headers in signed_in]
    throughput(pool, port, signed_in + open_, 3.0)  # warm-up: keys fetched, pools filled
    without, with_auth = [], []
    for _ in range(rounds):
        without.append(throughput(pool, port, open_, seconds))
        with_auth.append(throughput(pool, port, signed_in, seconds))
    ratios = [a / b for a, b in zip(with_auth, without, strict=True)]
    return statistics.median(without), statistics.median(with_auth), statistics.median(ratios)


def _share(cost: float) -> str:
    # A ratio above 1 is the noise of a shared machine, not a negative cost.
    return f"{cost * 100:.0f}%" if cost > 0 else "less than the noise (0%)"


# --- the run ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the ratio")
    args = parser.parse_args()
    require_postgres()
    identity_url, service_url = create_database("bench_identity"), create_database("bench_probe")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        prepare_identity(identity_url)
        prepare_service(service_url)
        identity_port, probe_port, uncached_port = free_port(), free_port(), free_port()
        processes.append(
            start_gunicorn(
                "identity.app:create_app()",
                identity_port,
                IDENTITY_DATABASE_URL=identity_url,
                **{"IDENTITY_ACCESS_TOKEN_SECONDS": "900"},  # the whole run on one set
            )
        )
        for port, cache_size in ((probe_port, "4096"), (uncached_port, "0")):
            processes.append(
                start_gunicorn(
                    "probe:create_app()",
                    port,
                    JOURNAL_DATABASE_URL=service_url,
                    IDENTITY_JWKS_URL=f"http://127.0.0.1:{identity_port}/api/identity/oauth/jwks",
                    PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
                    TOKEN_CACHE_SIZE=cache_size,
                )
            )
        for port in (identity_port, probe_port, uncached_port):
            wait_until_answering(port, "/healthz")
        cores = os.cpu_count() or 1
        print(
            f"identity benchmark, {cores} cores (shared), PostgreSQL, gunicorn 2 workers x 4 threads"
        )

        argon2 = argon2_verifications_per_second()
        logins = [login_request(number) for number in range(ACCOUNTS)]
        with multiprocessing.Pool(CLIENTS) as pool:
            throughput(pool, identity_port, logins, 2.0)  # warm-up: the first signing key
            login_rate = throughput(pool, identity_port, logins, args.seconds)
            ceiling = argon2 * min(cores, 2)
            print(
                f"logins: {login_rate:.1f}/s with the password grant ({CLIENTS} clients, "
                f"{args.seconds:.0f} s); Argon2id alone: {argon2:.1f} verifications/s per core, "
                f"{ceiling:.1f}/s on {min(cores, 2)} cores; ratio {login_rate / ceiling:.2f}"
            )
            tokens = access_tokens(identity_port, 40)
            print(
                f"token verification in another service ({CLIENTS} clients, 40 tokens, "
                f"{args.rounds} rounds x {args.seconds:.0f} s each, medians):"
            )
            for name, port in (
                ("as deployed (verified tokens remembered)", probe_port),
                ("every request checked anew (TOKEN_CACHE_SIZE=0)", uncached_port),
            ):
                without, with_auth, ratio = verification_ratio(
                    pool, port, tokens, args.seconds, args.rounds
                )
                print(
                    f"  {name}:\n"
                    f"    minimal view without authentication {without:7.0f} req/s\n"
                    f"    the same view with require_auth      {with_auth:7.0f} req/s\n"
                    f"    ratio {ratio:.2f} (target >= 0.85): verification costs "
                    f"{_share(1 - ratio)} of a minimal authenticated request"
                )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        drop_database(identity_url)
        drop_database(service_url)


if __name__ == "__main__":
    main()
