"""The deployment files agree with deploy/services.toml, the one table of services.

docker-compose.yml, deploy/nginx.conf, deploy/prometheus/*.yml, the Grafana dashboard
and the one deploy/Dockerfile are written by hand; these tests parse each of them
(nginx.conf and the Dockerfile with the small parsers below, not by searching text) and
fail when one forgets a service, routes a path elsewhere or names a service the table
does not have.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TABLE: dict[str, Any] = tomllib.loads((DEPLOY / "services.toml").read_text())
SERVICES: dict[str, dict[str, Any]] = TABLE["services"]
# The clients (the web app): a web process `<name>` and `<name>-worker`, like a service's,
# under clients/<name>/, routed at "/".
CLIENTS: dict[str, dict[str, Any]] = TABLE.get("clients", {})
INFRASTRUCTURE = {
    "rabbitmq",
    "rabbitmq-housekeeping",
    "postgres",
    "gateway",
    "mail",
    "prometheus",
    "grafana",
}

# The metric names of DESIGN §7 and the conventions of the services.
SERVICE_METRICS = (
    "http_request_duration_seconds",
    "events_published_total",
    "events_consumed_total",
    "events_parked_total",
    "events_unroutable_total",
    "outbox_backlog",
    "parked_messages",
    "erasures_open",
    "erasures_overdue",
    "backup_last_success_timestamp_seconds",
)
ALERT_METRICS = {
    "ServiceDown": ["up"],
    "OutboxBacklogGrowing": ["outbox_backlog"],
    "EventsParked": ["parked_messages"],
    "EventsUnroutable": ["events_unroutable_total"],
    "ErasureOverdue": ["erasures_overdue"],
    "ErasureDeadlineNear": ["erasure_deadline_seconds_remaining"],
    "BackupStale": ["backup_last_success_timestamp_seconds"],
    "DatabaseBackupStale": ["database_backup_last_success_timestamp_seconds"],
    "BackupVerificationFailed": ["database_backup_verification_ok"],
    "BackupVerificationStale": ["database_backup_last_verification_timestamp_seconds"],
    "RestoreDrillFailed": ["database_restore_drill_passed"],
    "RestoreDrillStale": ["database_restore_drill_last_success_timestamp_seconds"],
    "HighErrorRate": ["http_request_duration_seconds_count"],
    "NotifyDeliveriesLate": ["notify_oldest_undelivered_age_seconds"],
    "NotifySmsBudgetNear": ["notify_sms_budget_used_ratio"],
}
# Labels an alert text may quote: they name services and processes, never a person.
SAFE_TEMPLATE_LABELS = {
    "service",
    "process",
    "job",
    "instance",
    "event_type",
    "severity",
    "school_id",
    "database",  # the service whose database a backup metric is about
}


def services() -> list[str]:
    return sorted(SERVICES)


def metric_names(expression: str) -> set[str]:
    """Identifiers of a PromQL expression (metric names among them); strings dropped."""
    without_strings = re.sub(r'"(?:\\.|[^"\\])*"', "", expression)
    without_matchers = re.sub(r"\{[^}]*\}", "", without_strings)
    return set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", without_matchers))


# --- nginx.conf ---------------------------------------------------------------------------


@dataclass
class Directive:
    """One nginx directive: its name, its arguments and, for a block, what it holds."""

    name: str
    args: list[str]
    block: list[Directive] | None = None

    def children(self, name: str) -> list[Directive]:
        return [child for child in self.block or [] if child.name == name]

    def walk(self) -> Iterator[Directive]:
        for child in self.block or []:
            yield child
            yield from child.walk()


_NGINX_TOKEN = re.compile(
    r"""\s+|\#[^\n]*|(?P<quoted>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|(?P<punct>[{};])|(?P<word>[^\s{};"'#]+)"""
)


def nginx_tokens(text: str) -> Iterator[str]:
    """Words, quoted strings (unquoted) and the three punctuation marks, comments dropped."""
    position = 0
    while position < len(text):
        found = _NGINX_TOKEN.match(text, position)
        if found is None:
            raise ValueError(f"nginx.conf: cannot read at offset {position}")
        position = found.end()
        if found.group("quoted"):
            yield found.group("quoted")[1:-1]
        elif found.group("punct") or found.group("word"):
            yield found.group(0)


def parse_nginx(text: str) -> Directive:
    """The configuration as a tree of directives, as nginx reads it (blocks and `;`)."""
    stack: list[Directive] = [Directive("main", [], [])]
    words: list[str] = []
    for token in nginx_tokens(text):
        if token == ";":
            if not words:
                raise ValueError("nginx.conf: empty directive")
            stack[-1].block.append(Directive(words[0], words[1:]))  # type: ignore[union-attr]
            words = []
        elif token == "{":
            block = Directive(words[0], words[1:], [])
            stack[-1].block.append(block)  # type: ignore[union-attr]
            stack.append(block)
            words = []
        elif token == "}":
            if words or len(stack) == 1:
                raise ValueError("nginx.conf: unbalanced block")
            stack.pop()
        else:
            words.append(token)
    if words or len(stack) != 1:
        raise ValueError("nginx.conf: unterminated block or directive")
    return stack[0]


@pytest.fixture(scope="module")
def nginx() -> Directive:
    return parse_nginx((DEPLOY / "nginx.conf").read_text())


@pytest.fixture(scope="module")
def nginx_server(nginx: Directive) -> Directive:
    (http,) = nginx.children("http")
    (server,) = http.children("server")
    return server


def upstream_servers(nginx: Directive) -> dict[str, list[str]]:
    """upstream name -> the addresses of its `server` lines."""
    (http,) = nginx.children("http")
    return {
        upstream.args[0]: [server.args[0] for server in upstream.children("server")]
        for upstream in http.children("upstream")
    }


def proxied_locations(nginx: Directive, server: Directive) -> dict[str, str]:
    """location path -> the host:port its proxy_pass reaches (through an upstream block)."""
    upstreams = upstream_servers(nginx)
    found: dict[str, str] = {}
    for location in server.walk():
        if location.name != "location" or location.block is None:
            continue
        passes = location.children("proxy_pass")
        if not passes:
            continue
        assert len(passes) == 1, location.args
        target = passes[0].args[0]
        assert target.startswith("http://"), target
        host = target.removeprefix("http://").split("/", 1)[0]
        (address,) = upstreams.get(host, [host])
        path = location.args[-1]
        assert location.args[:-1] in ([], ["^~"]), f"location {location.args} is not a prefix"
        assert path not in found, f"two locations for {path}"
        found[path] = address
    return found


def test_the_nginx_parser_reads_blocks_not_text() -> None:
    tree = parse_nginx(
        "http { # location /commented { proxy_pass http://x; }\n"
        "  server { location /a/ { proxy_pass http://a:1; } return 200 '{\"x\": 1}'; } }"
    )
    (http,) = tree.children("http")
    (server,) = http.children("server")
    assert [(d.name, d.args) for d in server.walk()] == [
        ("location", ["/a/"]),
        ("proxy_pass", ["http://a:1"]),
        ("return", ["200", '{"x": 1}']),
    ]
    with pytest.raises(ValueError, match="unterminated"):
        parse_nginx("http { server { }")


def test_every_route_has_a_location_proxying_to_its_service(
    nginx: Directive, nginx_server: Directive
) -> None:
    locations = proxied_locations(nginx, nginx_server)
    for service, spec in SERVICES.items():
        for route in spec["routes"]:
            assert route in locations, f"nginx.conf has no location {route} ({service})"
            assert locations[route] == f"{service}-web:8000", route
    for client, spec in CLIENTS.items():
        for route in spec["routes"]:
            assert locations.get(route) == f"{client}:8000", f"{route} ({client})"


def test_nginx_proxies_nothing_the_table_does_not_route(
    nginx: Directive, nginx_server: Directive
) -> None:
    routes = {
        route: f"{service}-web:8000"
        for service, spec in SERVICES.items()
        for route in spec["routes"]
    }
    routes |= {
        route: f"{client}:8000" for client, spec in CLIENTS.items() for route in spec["routes"]
    }
    for path, address in proxied_locations(nginx, nginx_server).items():
        assert path in routes, f"nginx.conf routes {path}, which services.toml does not"
        assert address == routes[path], path
    web_addresses = {f"{service}-web:8000" for service in SERVICES} | {
        f"{client}:8000" for client in CLIENTS
    }
    for name, addresses in upstream_servers(nginx).items():
        assert set(addresses) <= web_addresses, f"upstream {name} reaches {addresses}"


def test_nginx_forwards_ids_and_client_addresses(nginx: Directive, nginx_server: Directive) -> None:
    headers = {d.args[0].lower(): d.args[1] for d in nginx_server.children("proxy_set_header")}
    assert headers["x-forwarded-for"] == "$proxy_add_x_forwarded_for"
    assert headers["x-forwarded-proto"] == "$scheme"
    assert "x-forwarded-host" in headers
    request_id = headers["x-request-id"]
    # A map of the caller's id that falls back to nginx's own $request_id.
    (http,) = nginx.children("http")
    maps = {d.args[1]: d for d in http.children("map")}
    assert request_id in maps, "X-Request-ID must come from a map over $http_x_request_id"
    id_map = maps[request_id]
    assert id_map.args[0] == "$http_x_request_id"
    assert {d.name: d.args for d in id_map.block or []}["default"] == ["$request_id"]
    # No location sets its own headers, which would silently drop these.
    for location in nginx_server.walk():
        if location.name == "location":
            assert not location.children("proxy_set_header"), location.args


def test_nginx_answers_unknown_api_paths_with_json_404(nginx_server: Directive) -> None:
    """ "/" is the web app's; an API path no service claims is the gateway's own JSON 404."""
    (fallback,) = [d for d in nginx_server.children("location") if d.args == ["/api/"]]
    assert not fallback.children("proxy_pass")
    (answer,) = fallback.children("return")
    assert answer.args[0] == "404"
    assert json.loads(answer.args[1])["error"]["code"] == "not_found"


def test_nginx_refuses_every_service_metrics_as_an_unknown_path(nginx_server: Directive) -> None:
    """R-PLT-3: /api/<service>/metrics is a JSON 404 from the gateway itself; Prometheus
    scrapes the processes directly. A regex location is chosen over the prefix ones."""
    regexes = [d for d in nginx_server.children("location") if d.args[:1] == ["~"]]
    refusing = [d for d in regexes if not d.children("proxy_pass")]
    assert refusing, "no regex location refuses the services' metrics"

    def refused(path: str) -> bool:
        for location in refusing:
            if re.search(location.args[1], path):
                (answer,) = location.children("return")
                assert json.loads(answer.args[1])["error"]["code"] == "not_found"
                return answer.args[0] == "404"
        return False

    for service in SERVICES:
        for path in ("metrics", "metrics/", "./metrics", "metrics/x"):
            assert refused(f"/api/{service}/{path}"), path
        assert not refused(f"/api/{service}/v1/metrics")
        assert not refused(f"/api/{service}/healthz")


def test_nginx_sets_timeouts_and_a_body_limit(nginx_server: Directive) -> None:
    names = {d.name for d in nginx_server.block or []}
    assert {"proxy_connect_timeout", "proxy_read_timeout", "client_max_body_size"} <= names


# --- docker-compose.yml -------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def environment_of(definition: dict[str, Any]) -> dict[str, str]:
    environment = definition.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def command_of(definition: dict[str, Any]) -> str:
    command = definition.get("command") or ""
    return command if isinstance(command, str) else shlex.join(command)


def healthy(definition: dict[str, Any], dependency: str) -> bool:
    depends_on = definition.get("depends_on") or {}
    return (
        isinstance(depends_on, dict)
        and depends_on.get(dependency, {}).get("condition") == "service_healthy"
    )


def test_compose_has_a_web_and_a_worker_for_exactly_the_services_of_the_table(
    compose: dict[str, Any],
) -> None:
    expected = INFRASTRUCTURE | {
        f"{service}-{process}" for service in SERVICES for process in ("web", "worker")
    }
    expected |= {name for client in CLIENTS for name in (client, f"{client}-worker")}
    assert set(compose["services"]) == expected


@pytest.mark.parametrize("service", services())
def test_compose_web_runs_migrations_then_gunicorn_on_its_own_database(
    compose: dict[str, Any], service: str
) -> None:
    web = compose["services"][f"{service}-web"]
    assert web["build"]["context"] == "."
    assert web["build"]["dockerfile"] == "deploy/Dockerfile"
    command = command_of(web)
    assert f"schoolkit-migrate {service} &&" in command
    assert "gunicorn -c python:schoolkit.gunicorn_conf" in command
    assert f"{service}.app:create_app()" in command
    environment = environment_of(web)
    assert environment["DATABASE_URL"] == f"postgresql://school:school@postgres:5432/{service}"
    assert environment["AMQP_URL"] == "amqp://guest:guest@rabbitmq:5672/"
    assert environment["IDENTITY_JWKS_URL"] == "http://identity-web:8000/api/identity/oauth/jwks"
    assert environment["SCHOOL_ROOT"] == "/app"
    assert healthy(web, "rabbitmq")
    assert healthy(web, "postgres")


@pytest.mark.parametrize("service", services())
def test_compose_worker_runs_the_service_worker_after_its_web(
    compose: dict[str, Any], service: str
) -> None:
    web = compose["services"][f"{service}-web"]
    worker = compose["services"][f"{service}-worker"]
    assert worker["image"] == web["image"]
    command = command_of(worker)
    assert command.startswith("sh -c ")
    script = shlex.split(command)[2]
    assert script == f"schoolkit-migrate {service} && exec {service}-worker"
    environment = environment_of(worker)
    assert environment["DATABASE_URL"] == f"postgresql://school:school@postgres:5432/{service}"
    assert environment["AMQP_URL"] == "amqp://guest:guest@rabbitmq:5672/"
    assert environment["WORKER_METRICS_PORT"] == "9000"
    assert healthy(worker, "rabbitmq")
    assert healthy(worker, "postgres")
    assert healthy(worker, f"{service}-web")


def test_identity_web_gets_the_first_administrator(compose: dict[str, Any]) -> None:
    environment = environment_of(compose["services"]["identity-web"])
    assert {"BOOTSTRAP_ADMIN_LOGIN", "BOOTSTRAP_ADMIN_PASSWORD"} <= set(environment)
    assert "identity-bootstrap-admin" in command_of(compose["services"]["identity-web"])


def test_identity_believes_x_forwarded_for_from_the_gateway_alone(compose: dict[str, Any]) -> None:
    """A client on the school's network must not pass for another address (issue 14 §10):
    identity trusts exactly the gateway's fixed address, which no other container can get."""
    trusted = environment_of(compose["services"]["identity-web"])["IDENTITY_TRUSTED_PROXIES"]
    gateway_address = compose["services"]["gateway"]["networks"]["default"]["ipv4_address"]
    assert trusted == f"{gateway_address}/32"
    (pool,) = compose["networks"]["default"]["ipam"]["config"]
    address = ipaddress.ip_address(gateway_address)
    assert address in ipaddress.ip_network(pool["subnet"])
    assert address not in ipaddress.ip_network(pool["ip_range"])


@pytest.mark.parametrize(
    ("process", "key"),
    [
        ("identity-web", "IDENTITY_KEY_ENCRYPTION_KEY"),
        ("archive-web", "ARCHIVE_MASTER_KEY"),
        ("archive-worker", "ARCHIVE_MASTER_KEY"),
        ("identity-web", "WEB_CLIENT_SECRET"),
        ("web", "WEB_CLIENT_SECRET"),
    ],
)
def test_compose_refuses_to_start_a_process_without_its_key(
    compose: dict[str, Any], process: str, key: str
) -> None:
    # ${NAME:?message}: compose stops with the message when NAME is unset or empty,
    # rather than start a service that would refuse anyway (or, before, use a public key).
    value = environment_of(compose["services"][process])[key]
    assert re.fullmatch(rf"\$\{{{key}:\?[^}}]*make secrets[^}}]*\}}", value), value


def test_notify_sends_to_the_mail_sink_until_the_school_names_its_relay(
    compose: dict[str, Any],
) -> None:
    definitions = compose["services"]
    environment = environment_of(definitions["notify-worker"])
    assert environment["NOTIFY_SMTP_HOST"] == "${NOTIFY_SMTP_HOST:-mail}"
    assert environment["NOTIFY_SMTP_PORT"] == "${NOTIFY_SMTP_PORT:-1025}"  # mailpit's SMTP
    for setting in ("USER", "PASSWORD", "STARTTLS"):
        assert environment[f"NOTIFY_SMTP_{setting}"].startswith(f"${{NOTIFY_SMTP_{setting}:-")
    assert definitions["mail"]["image"].startswith("axllent/mailpit:")
    assert "8025:8025" in definitions["mail"]["ports"]
    assert "mail" in definitions["notify-worker"]["depends_on"]


def test_postgres_creates_one_database_per_service(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert environment_of(postgres)["POSTGRES_USER"] == "school"
    assert environment_of(postgres)["POSTGRES_PASSWORD"] == "school"
    assert (
        "./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/init.sql:ro" in postgres["volumes"]
    )
    sql = re.sub(r"--[^\n]*", "", (DEPLOY / "postgres" / "init.sql").read_text())
    statements = [s.strip() for s in sql.split(";") if s.strip()]
    created = []
    for statement in statements:
        found = re.fullmatch(r"CREATE DATABASE\s+\"?(\w+)\"?(\s+.*)?", statement, re.I | re.S)
        assert found, statement
        created.append(found.group(1))
    assert sorted(created) == sorted([*SERVICES, *CLIENTS])


def test_infrastructure_is_healthchecked_and_mounts_files_that_exist(
    compose: dict[str, Any],
) -> None:
    definitions = compose["services"]
    assert definitions["rabbitmq"]["image"] == "rabbitmq:3.10-management"
    assert "healthcheck" in definitions["rabbitmq"]
    broker_files = "./deploy/rabbitmq/advanced.config:/etc/rabbitmq/advanced.config:ro"
    assert broker_files in definitions["rabbitmq"]["volumes"]
    housekeeping = definitions["rabbitmq-housekeeping"]
    assert housekeeping["environment"]["RABBITMQ_NODE"] == "rabbit@rabbitmq"
    assert definitions["rabbitmq"]["hostname"] == "rabbitmq"
    assert "healthcheck" in definitions["postgres"]
    gateway = definitions["gateway"]
    assert gateway["image"].startswith("nginx:1.27")
    assert "8080:80" in gateway["ports"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in gateway["volumes"]
    assert "9090:9090" in definitions["prometheus"]["ports"]
    assert "3000:3000" in definitions["grafana"]["ports"]
    for name, definition in definitions.items():
        for volume in definition.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is missing"


# --- Prometheus ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())


def scrape_targets(prometheus: dict[str, Any]) -> dict[str, dict[str, str]]:
    """target -> its labels, over every job."""
    targets: dict[str, dict[str, str]] = {}
    for job in prometheus["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        for group in job["static_configs"]:
            for target in group["targets"]:
                assert target not in targets, f"{target} is scraped twice"
                targets[target] = group.get("labels", {})
    return targets


def test_prometheus_scrapes_every_web_and_worker_with_its_labels(
    prometheus: dict[str, Any],
) -> None:
    targets = scrape_targets(prometheus)
    expected = {}
    for service in SERVICES:
        expected[f"{service}-web:8000"] = {"service": service, "process": "web"}
        expected[f"{service}-worker:9000"] = {"service": service, "process": "worker"}
    for client in CLIENTS:
        expected[f"{client}:8000"] = {"service": client, "process": "web"}
        expected[f"{client}-worker:9000"] = {"service": client, "process": "worker"}
    assert targets == expected


def test_prometheus_loads_the_alert_rules(prometheus: dict[str, Any]) -> None:
    rule_files = prometheus["rule_files"]
    assert [Path(name).name for name in rule_files] == ["alerts.yml"]
    assert (DEPLOY / "prometheus" / rule_files[0]).is_file()


@pytest.fixture(scope="module")
def alerts() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    return {rule["alert"]: rule for rule in rules if "alert" in rule}


@pytest.mark.parametrize("alert", sorted(ALERT_METRICS))
def test_each_alert_watches_its_metric(alerts: dict[str, dict[str, Any]], alert: str) -> None:
    assert alert in alerts
    rule = alerts[alert]
    names = metric_names(rule["expr"])
    for metric in ALERT_METRICS[alert]:
        assert metric in names, f"{alert}: {rule['expr']}"
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"]


def test_alert_thresholds_and_durations(alerts: dict[str, dict[str, Any]]) -> None:
    assert alerts["ServiceDown"]["expr"].strip() == "up == 0"
    assert alerts["ServiceDown"]["for"] == "1m"
    assert alerts["EventsParked"]["for"] == "5m"
    assert "for" not in alerts["EventsUnroutable"]
    assert "> 0" in alerts["EventsUnroutable"]["expr"]
    assert alerts["HighErrorRate"]["for"] == "10m"
    assert "0.05" in alerts["HighErrorRate"]["expr"]
    assert 'status=~"5.."' in alerts["HighErrorRate"]["expr"]
    assert "> 100" in alerts["OutboxBacklogGrowing"]["expr"]
    assert "[10m]" in alerts["OutboxBacklogGrowing"]["expr"]
    assert "< 86400" in alerts["ErasureDeadlineNear"]["expr"]
    assert re.search(r">\s*(26\s*\*\s*3600|93600)\b", alerts["BackupStale"]["expr"])
    assert re.search(r">\s*(26\s*\*\s*3600|93600)\b", alerts["DatabaseBackupStale"]["expr"])
    assert re.search(r">\s*(7\s*\*\s*86400|604800)\b", alerts["RestoreDrillStale"]["expr"])
    assert "== 0" in alerts["BackupVerificationFailed"]["expr"]
    assert "== 0" in alerts["RestoreDrillFailed"]["expr"]


def test_alert_texts_quote_only_labels_that_name_no_person(
    alerts: dict[str, dict[str, Any]],
) -> None:
    for name, rule in alerts.items():
        for text in rule.get("annotations", {}).values():
            quoted = set(re.findall(r"\$labels\.(\w+)", text))
            assert quoted <= SAFE_TEMPLATE_LABELS, f"{name} quotes {quoted}"


# --- Grafana ------------------------------------------------------------------------------


@dataclass
class Dashboard:
    document: dict[str, Any]
    panels: list[dict[str, Any]] = field(default_factory=list)

    def expressions(self) -> list[str]:
        return [target["expr"] for panel in self.panels for target in panel.get("targets", [])]


@pytest.fixture(scope="module")
def dashboard() -> Dashboard:
    document = json.loads((DEPLOY / "grafana" / "dashboards" / "school-overview.json").read_text())
    panels: list[dict[str, Any]] = []
    pending = list(document["panels"])
    while pending:
        panel = pending.pop(0)
        panels.append(panel)
        pending.extend(panel.get("panels", []))
    return Dashboard(document, panels)


def test_the_dashboard_shows_every_metric_of_the_services(dashboard: Dashboard) -> None:
    referenced = set().union(*(metric_names(expr) for expr in dashboard.expressions()))
    for metric in SERVICE_METRICS:
        variants = {metric, f"{metric}_bucket", f"{metric}_count", f"{metric}_sum"}
        assert variants & referenced, f"no panel shows {metric}"
    assert any("histogram_quantile(0.95" in expr for expr in dashboard.expressions())


def test_the_dashboard_uses_the_provisioned_data_source(dashboard: Dashboard) -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    for panel in dashboard.panels:
        if panel.get("type") == "row":
            continue
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]
    providers = yaml.safe_load((provisioning / "dashboards" / "dashboards.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


# --- Dockerfiles --------------------------------------------------------------------------


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
    assert not pending, f"{path} ends inside a continued line"
    return instructions


def test_every_service_directory_is_in_the_table() -> None:
    directories = {path.parent.name for path in (ROOT / "services").glob("*/pyproject.toml")}
    assert directories == set(SERVICES)


def dockerfile() -> dict[str, list[str]]:
    by_keyword: dict[str, list[str]] = {}
    for keyword, arguments in dockerfile_instructions(DEPLOY / "Dockerfile"):
        by_keyword.setdefault(keyword, []).append(arguments)
    return by_keyword


def test_the_one_dockerfile_installs_the_kit_and_the_app_its_arguments_name() -> None:
    by_keyword = dockerfile()
    assert by_keyword["FROM"] == ["python:3.11-slim"]
    assert {"SCHOOL_APP", "SCHOOL_APP_DIR"} <= set(by_keyword["ARG"])
    copies = {tuple(arguments.split()) for arguments in by_keyword["COPY"]}
    assert {
        ("libs/schoolkit", "/app/libs/schoolkit"),
        ("contracts", "/app/contracts"),
        ("deploy", "/app/deploy"),
        ("${SCHOOL_APP_DIR}", "/app/${SCHOOL_APP_DIR}"),
    } == copies
    assert any(
        "pip install --no-cache-dir /app/libs/schoolkit /app/${SCHOOL_APP_DIR}" in arguments
        for arguments in by_keyword["RUN"]
    )
    # An image built without its app must fail to build, not start empty.
    assert any('test -n "$SCHOOL_APP" && test -n "$SCHOOL_APP_DIR"' in a for a in by_keyword["RUN"])
    environment = " ".join(by_keyword["ENV"])
    assert "SCHOOL_APP=${SCHOOL_APP}" in environment
    assert "SCHOOL_ROOT=/app" in environment
    # A deployed image never falls back to a development key (schoolkit.keys).
    assert "SCHOOL_DEPLOYMENT=production" in environment
    (user,) = by_keyword["USER"]
    assert user not in {"root", "0", "0:0"}
    (healthcheck,) = by_keyword["HEALTHCHECK"]
    assert "urllib.request" in healthcheck
    assert "/healthz" in healthcheck
    (command,) = by_keyword["CMD"]
    script = json.loads(command)
    assert script[:2] == ["sh", "-c"]
    assert script[2] == (
        'schoolkit-migrate "$SCHOOL_APP" && exec gunicorn -c python:schoolkit.gunicorn_conf '
        '"$SCHOOL_APP.app:create_app()"'
    )


def image_builds() -> Iterator[tuple[str, str]]:
    """(compose service, app) of every service's and client's process."""
    for name in services():
        for process in ("web", "worker"):
            yield f"{name}-{process}", name
    for client in sorted(CLIENTS):
        for process in (client, f"{client}-worker"):
            yield process, client


def test_every_process_is_built_from_the_one_dockerfile_with_its_own_app(
    compose: dict[str, Any],
) -> None:
    for process, app in image_builds():
        build = compose["services"][process]["build"]
        assert (build["context"], build["dockerfile"]) == (".", "deploy/Dockerfile"), process
        directory = f"clients/{app}" if app in CLIENTS else f"services/{app}"
        assert build["args"]["SCHOOL_APP"] == app, process
        assert build["args"]["SCHOOL_APP_DIR"] == directory, process
        assert (ROOT / directory / "pyproject.toml").is_file(), process
        assert (ROOT / directory / app / "app.py").is_file(), process
        image = compose["services"][process]["image"]
        assert image == f"school/{app}:${{SCHOOL_IMAGE_TAG:-latest}}", process


def test_only_the_archive_image_carries_the_postgresql_client_tools(
    compose: dict[str, Any],
) -> None:
    for process, app in image_builds():
        packages = compose["services"][process]["build"]["args"].get("APT_PACKAGES", "")
        assert packages == ("postgresql-client" if app == "archive" else ""), process


# --- the clients (the web app) ------------------------------------------------------------


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_compose_runs_a_client_as_a_service_is_run(compose: dict[str, Any], client: str) -> None:
    web = compose["services"][client]
    assert web["build"]["dockerfile"] == "deploy/Dockerfile"
    script = shlex.split(command_of(web))[2]
    assert script == (
        f"schoolkit-migrate {client} && exec gunicorn -c python:schoolkit.gunicorn_conf "
        f"'{client}.app:create_app()'"
    )
    environment = environment_of(web)
    assert environment["DATABASE_URL"] == f"postgresql://school:school@postgres:5432/{client}"
    assert environment["IDENTITY_JWKS_URL"] == "http://identity-web:8000/api/identity/oauth/jwks"
    assert healthy(web, "postgres") and healthy(web, "identity-web")
    worker = compose["services"][f"{client}-worker"]
    assert worker["image"] == web["image"]
    assert (
        shlex.split(command_of(worker))[2] == f"schoolkit-migrate {client} && exec {client}-worker"
    )
    assert environment_of(worker)["WORKER_METRICS_PORT"] == "9000"
    assert healthy(worker, client)


def test_identity_registers_the_web_app_with_the_secret_compose_gives_both(
    compose: dict[str, Any],
) -> None:
    identity = compose["services"]["identity-web"]
    command = command_of(identity)
    assert "identity-add-client school-web --kind application" in command
    assert "--secret-env WEB_CLIENT_SECRET --keep-existing" in command
    assert (
        environment_of(identity)["WEB_PUBLIC_URL"]
        == environment_of(compose["services"]["web"])["WEB_PUBLIC_URL"]
    )
