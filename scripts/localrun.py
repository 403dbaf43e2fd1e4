"""`make up` / `make down`: the whole system on this machine, one command each.

Every service runs as a web process (gunicorn) and a worker, behind the Python gateway
on http://localhost:8080, under honcho; databases are SQLite files in var/ unless a
`<SERVICE>_DATABASE_URL` is set; the broker is the local RabbitMQ (AMQP_URL).
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

from schoolkit.endpoints import host_port, reachable

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("SCHOOL_VAR_DIR", ROOT / "var"))
BIN = Path(sys.executable).parent
PID_FILE = VAR / "run" / "honcho.pid"
LOG_FILE = VAR / "log" / "system.log"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
READY_TIMEOUT = 120.0


def service_table() -> dict:
    return tomllib.loads((ROOT / "deploy" / "services.toml").read_text())


def processes_of(table: dict) -> dict:
    """The services and the clients (the web app): each a web process and a worker."""
    return {**table["services"], **table.get("clients", {})}


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def check_dependencies(services: dict) -> None:
    amqp_url = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)
    if not reachable(amqp_url, 5672):
        sys.exit(
            f"RabbitMQ is not reachable at {host_port(amqp_url, 5672)}.\n"
            "Start it with: rabbitmq-server -detached   (or set AMQP_URL to a running broker)"
        )
    for name in services:
        url = os.environ.get(f"{name.upper()}_DATABASE_URL", "")
        if url.startswith("postgres") and not reachable(url, 5432):
            sys.exit(
                f"PostgreSQL for {name} is not reachable ({name.upper()}_DATABASE_URL).\n"
                "Start it with: pg_ctlcluster --skip-systemctl-redirect "
                "$(ls /etc/postgresql) main start"
            )


def snapshot_quorum_queues_when_empty() -> None:
    """What deploy/rabbitmq/advanced.config sets at a deployed broker's boot, set on the
    local broker before any worker declares its queues (a queue keeps the interval it was
    declared with): consumed bodies then leave the broker's disk at the next WAL roll-over."""
    if not shutil.which("rabbitmqctl"):
        say("note: no rabbitmqctl here; message bodies stay on the broker's disk for longer")
        return
    setting = "application:set_env(rabbit, quorum_snapshot_interval, 1)."
    done = subprocess.run(
        ["rabbitmqctl", "-q", "eval", setting], capture_output=True, timeout=60, check=False
    )
    if done.returncode != 0:
        say("note: could not set the broker's quorum_snapshot_interval (README, erasure)")


def running_pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def procfile(services: dict) -> str:
    lines = []
    for name, spec in services.items():
        lines.append(
            f"{name}-web: env BIND=127.0.0.1:{spec['web_port']} WEB_CONCURRENCY=2 "
            f"PROMETHEUS_MULTIPROC_DIR={VAR / 'prometheus' / name} "
            f"{BIN / 'gunicorn'} -c python:schoolkit.gunicorn_conf '{name}.app:create_app()'"
        )
        lines.append(
            f"{name}-worker: env WORKER_METRICS_PORT={spec['worker_metrics_port']} "
            f"{BIN / (name + '-worker')}"
        )
    lines.append(f"gateway: {BIN / 'schoolkit-gateway'}")
    lines.append(f"mailbox: {BIN / 'python'} {ROOT / 'scripts' / 'mailbox.py'}")
    if shutil.which("rabbitmqctl"):
        # Consumed bodies leave the local broker's disk within the hour (README, erasure).
        script = ROOT / "deploy" / "rabbitmq" / "housekeeping.sh"
        lines.append(f"broker-housekeeping: {script}")
    return "\n".join(lines) + "\n"


def migrate(services: dict) -> None:
    for name in services:
        subprocess.run([BIN / "schoolkit-migrate", name], check=True, cwd=ROOT)


def bootstrap_admin() -> str:
    done = subprocess.run(
        [BIN / "identity-bootstrap-admin"], check=True, cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip()


def register_web_client(gateway: str) -> str:
    """The web app signs in with identity as a confidential OAuth client: its secret is made
    once into var/ (where the web process reads it) and registered with identity once."""
    secret_path = VAR / "web-client.secret"
    if not secret_path.is_file() or not secret_path.read_text().strip():
        secret_path.parent.mkdir(parents=True, exist_ok=True)
        secret_path.touch(mode=0o600)
        # Not the `secrets` module: scripts/secrets.py (make secrets) has its name here.
        secret_path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
    done = subprocess.run(
        [
            BIN / "identity-add-client",
            "school-web",
            "--kind",
            "application",
            "--redirect-uri",
            f"{gateway}/oauth/callback",
            "--secret-env",
            "WEB_CLIENT_SECRET",
            "--keep-existing",
        ],
        cwd=ROOT,
        env={**os.environ, "WEB_CLIENT_SECRET": secret_path.read_text().strip()},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return f"web app: sign-in off, identity did not register it ({done.stderr.strip()})"
    return "web app: registered with identity"


def start(services: dict) -> None:
    (VAR / "run").mkdir(parents=True, exist_ok=True)
    LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
    proc_path = VAR / "run" / "Procfile"
    proc_path.write_text(procfile(services))
    environment = {
        **os.environ,
        "SCHOOL_ROOT": str(ROOT),
        "SCHOOL_VAR_DIR": str(VAR),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with LOG_FILE.open("ab") as log:
        process = subprocess.Popen(
            [BIN / "honcho", "-f", str(proc_path), "-d", str(ROOT), "start", "--no-prefix"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            start_new_session=True,
        )
    PID_FILE.write_text(str(process.pid))


def wait_until_ready(services: dict, gateway: str) -> list[str]:
    waiting = set(services)
    deadline = time.monotonic() + READY_TIMEOUT
    while waiting and time.monotonic() < deadline:
        for name in sorted(waiting):
            try:
                with urllib.request.urlopen(f"{gateway}/api/{name}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        waiting.discard(name)
            except (urllib.error.URLError, OSError):
                pass
        if running_pid() is None:
            break
        time.sleep(0.5)
    return sorted(waiting)


def up() -> int:
    table = service_table()
    services = processes_of(table)
    gateway = f"http://localhost:{table['gateway']['port']}"
    if running_pid():
        say(f"Already running: {gateway}  (make down stops it)")
        return 0
    check_dependencies(services)
    snapshot_quorum_queues_when_empty()
    migrate(services)
    admin = bootstrap_admin()
    web_client = register_web_client(gateway)
    start(services)
    not_ready = wait_until_ready(services, gateway)
    if not_ready:
        say(f"Not healthy after {READY_TIMEOUT:.0f}s: {', '.join(not_ready)}. See {LOG_FILE}")
        down()
        return 1
    say(f"The school platform is up: {gateway}")
    say(f"  {admin}")
    say(f"  {web_client}; the diary for guardians and students: {gateway}/")
    say(f"  services: {', '.join(f'{gateway}/api/{name}/' for name in table['services'])}")
    say(f"  mail that notify sends: {VAR / 'mail'}/*.eml")
    say(f"  logs: {LOG_FILE}   stop: make down")
    return 0


def down() -> int:
    pid = running_pid()
    if pid is None:
        say("Nothing is running.")
        PID_FILE.unlink(missing_ok=True)
        return 0
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while running_pid() and time.monotonic() < deadline:
        time.sleep(0.2)
    if running_pid():
        os.killpg(pid, signal.SIGKILL)
    PID_FILE.unlink(missing_ok=True)
    say("Stopped.")
    return 0


def status() -> int:
    table = service_table()
    gateway = f"http://localhost:{table['gateway']['port']}"
    if not running_pid():
        say("Not running (make up starts it).")
        return 1
    for name in processes_of(table):
        try:
            with urllib.request.urlopen(f"{gateway}/api/{name}/readyz", timeout=2) as answer:
                say(f"{name:10} {answer.status}")
        except urllib.error.HTTPError as error:
            say(f"{name:10} {error.code}")
        except (urllib.error.URLError, OSError):
            say(f"{name:10} not answering")
    return 0


if __name__ == "__main__":
    commands = {"up": up, "down": down, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit("usage: localrun.py up|down|status")
    sys.exit(commands[sys.argv[1]]())
