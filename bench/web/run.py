"""bench/web: the guardian's week page of the web app, against the diary call it is built from.

1. The school is bench/diary's: the journal's generated 1,000-student year, its events
   applied by the diary's own handlers into a fresh diary database (bench/diary/run.py).
2. The diary and the web app run under gunicorn exactly as deployed, the local gateway in
   front of both (the diary at /api/diary/, the web app at "/"), as `make up` routes them.
   Each guardian has a signed-in session of the web app (a row of its table and the
   cookie's secret, with a token of the bench's issuer), so no sign-in is timed.
3. Closed loop: the throughput of the week page (`/students/{id}/week?date=`, which makes
   the diary's week, acknowledgements and me/students calls) and of the diary's week call
   alone, both through the gateway, with the same guardians and weeks: their ratio (target
   >= 0.5). Open loop at 80 % of the page's throughput: p50/p99 (target p99 < 100 ms).
4. The page's weight: HTML + CSS + JS gzip-compressed on a first load (target < 60 KB)
   and the HTML alone on a later one, the stylesheet and script cached (target < 15 KB).

No timed assertions: it prints what it measured. Run: `.venv/bin/python bench/web/run.py`
(options: --students, --weeks, --seconds).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import multiprocessing
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "diary"))

from run import (  # noqa: E402 - bench/diary's steps, reused as they are
    CLIENTS,
    SENDERS_PER_CLIENT,
    THROUGHPUT_RUNS,
    Request,
    latency_at,
    load_average,
    percentile,
    seed,
    start_web,
    throughput,
)
from year import DiaryYear, study_mondays  # noqa: E402

from schoolkit.db import Database  # noqa: E402
from schoolkit.gateway import gunicorn_argv  # noqa: E402
from schoolkit.migrate import upgrade  # noqa: E402
from schoolkit.testing import (  # noqa: E402
    TokenIssuer,
    create_database,
    drop_database,
    free_port,
    require_postgres,
    wait_until_answering,
)
from web.models import WebSession  # noqa: E402
from web.sessions import digest  # noqa: E402

BIN = Path(sys.executable).parent
GUARDIANS = 200


def signed_in_guardians(
    year: DiaryYear, mondays: list, issuer: TokenIssuer, web_url: str
) -> tuple[list[Request], list[Request]]:
    """For each of GUARDIANS guardians: a session of the web app, the page request with
    its cookie and the diary request with its token, for the same child and week."""
    rng = random.Random(15)
    pages: list[Request] = []
    calls: list[Request] = []
    database = Database(web_url)
    moment = datetime.now(UTC)
    with database.transaction() as session:
        for family in rng.sample(year.families, min(GUARDIANS, len(year.families))):
            token = issuer.issue(
                sub=family.guardian_id,
                roles=["guardian"],
                school_id=year.school_id,
                exp=int(time.time()) + 3600,
            )
            cookie = secrets.token_urlsafe(32)
            session.add(
                WebSession(
                    id_digest=digest(cookie),
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=moment,
                    seen_at=moment,
                    user_id=family.guardian_id,
                    school_id=year.school_id,
                    access_token=token,
                    access_expires_at=moment + timedelta(hours=1),
                )
            )
            day = rng.choice(mondays)
            pages.append(
                (
                    f"/students/{family.student_id}/week?date={day}",
                    {"Cookie": f"school_session={cookie}"},
                )
            )
            calls.append(
                (
                    f"/api/diary/v1/students/{family.student_id}/week?date={day}",
                    {"Authorization": f"Bearer {token}"},
                )
            )
    database.dispose()
    return pages, calls


def start_gateway(
    diary_port: int, web_port: int, gateway_port: int
) -> tuple[subprocess.Popen[bytes], Path]:
    root = Path(tempfile.mkdtemp(prefix="bench-web-root-"))
    (root / "deploy").mkdir()
    (root / "deploy" / "services.toml").write_text(
        f"[gateway]\nport = {gateway_port}\n\n"
        f'[services.diary]\nweb_port = {diary_port}\nroutes = ["/api/diary/"]\n\n'
        f'[clients.web]\nweb_port = {web_port}\nroutes = ["/"]\n'
    )
    environment = {**os.environ, "SCHOOL_ROOT": str(root), "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(gunicorn_argv(gateway_port), env=environment), root


def start_web_app(
    web_url: str, issuer: TokenIssuer, gateway_port: int
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    gateway = f"http://127.0.0.1:{gateway_port}"
    environment = {
        **os.environ,
        "WEB_DATABASE_URL": web_url,
        "WEB_API_URL": gateway,
        "WEB_PUBLIC_URL": gateway,
        "WEB_CLIENT_SECRET": "bench",  # never used: nobody signs in during the bench
        "IDENTITY_JWKS_URL": issuer.jwks_url,
        "TOKEN_ISSUER": issuer.issuer,
        "BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(BIN / "gunicorn"),
        "-c",
        "python:schoolkit.gunicorn_conf",
        "web.app:create_app()",
    ]
    return subprocess.Popen(command, env=environment), port


def fetch(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    return answer.status, body


def page_weight(port: int, page: Request) -> tuple[int, int]:
    """Compressed bytes of a first load (HTML, CSS, JS) and of a later one (HTML)."""
    status, html = fetch(port, *page)
    assert status == 200, f"the week page answered {status}"
    assets = [fetch(port, f"/static/{name}", {})[1] for name in ("web.css", "web.js")]
    later = len(gzip.compress(html))
    return later + sum(len(gzip.compress(asset)) for asset in assets), later


def measure(pages: list[Request], calls: list[Request], port: int, seconds: float) -> None:
    with multiprocessing.Pool(CLIENTS) as pool:
        throughput(pool, port, pages, 4.0, warm_up=True)
        throughput(pool, port, calls, 4.0, warm_up=True)
        page_rates, call_rates = [], []
        for _ in range(THROUGHPUT_RUNS):  # in turns: a slow moment touches both sides
            call_rates.append(throughput(pool, port, calls, seconds / 2))
            page_rates.append(throughput(pool, port, pages, seconds / 2))
        page, call = statistics.median(page_rates), statistics.median(call_rates)
        print(
            f"throughput through the gateway, closed loop, {CLIENTS} clients x "
            f"{SENDERS_PER_CLIENT} senders, median of {THROUGHPUT_RUNS} runs of {seconds / 2:.0f} s, "
            f"{len(pages)} guardians' weeks:"
        )
        print(f"  the diary's week call  {call:6.0f} req/s")
        print(
            f"  the week page          {page:6.0f} req/s   ratio {page / call:.2f} (target >= 0.5)"
        )
        rate = 0.8 * page
        latencies = latency_at(pool, port, pages, rate, seconds)
        print(
            f"latency of the week page at 80% ({rate:.0f} req/s, open loop): "
            f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms   "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms (target < 100 ms)"
        )


def main() -> None:
    args = arguments()
    print(f"web benchmark, {os.cpu_count()} cores (shared); load average {load_average()}")
    require_postgres()
    journal_url = create_database("bench_web_journal")
    diary_url, web_url = create_database("bench_web_diary"), create_database("bench_web")
    issuer = TokenIssuer()
    processes: list[subprocess.Popen[bytes]] = []
    gateway_root: Path | None = None
    try:
        upgrade("diary", diary_url)
        upgrade("web", web_url)
        seeded = seed(journal_url, diary_url, args)
        mondays = study_mondays(journal_url, seeded.year.window)
        print(
            f"the school: {args.students} students, {seeded.events} diary events applied "
            f"in {seeded.seconds:.0f} s; weeks {mondays[0]} to {mondays[-1]}"
        )
        pages, calls = signed_in_guardians(seeded.year, mondays, issuer, web_url)
        gateway_port = free_port()
        diary, diary_port = start_web(diary_url, issuer, body_cache=1024)
        web, web_port = start_web_app(web_url, issuer, gateway_port)
        gateway, gateway_root = start_gateway(diary_port, web_port, gateway_port)
        processes += [diary, web, gateway]
        for port in (diary_port, web_port):
            wait_until_answering(port)
        wait_until_answering(gateway_port, "/api/diary/healthz")
        first, later = page_weight(gateway_port, pages[0])
        print(
            f"the week page's weight, gzip: first load (HTML+CSS+JS) {first / 1024:.1f} KB "
            f"(target < 60 KB), later load (HTML) {later / 1024:.1f} KB (target < 15 KB)"
        )
        measure(pages, calls, gateway_port, args.seconds)
        print(f"load average {load_average()} at the end (other engineers share the machine)")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        if gateway_root is not None:
            shutil.rmtree(gateway_root)
        issuer.close()
        for url in (journal_url, diary_url, web_url):
            drop_database(url)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000, help="size of the school")
    parser.add_argument("--weeks", type=int, default=1, help="the year's last weeks in the diary")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    parser.add_argument("--seeders", type=int, default=os.cpu_count() or 1)
    return parser.parse_args()


if __name__ == "__main__":
    main()
