"""The production stack (docker-compose.yml + Dockerfile) agrees with the code it runs.

No Docker engine is needed: the compose file is loaded as YAML, variables are interpolated the way
Compose does it (``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``$$``), and the result is
checked against ``casehall.core.settings.Settings`` and against itself.
"""

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from casehall.core.codec import Keyring
from casehall.core.settings import Settings
from casehall.workflows.observability import describe

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

CASEHALL_SERVICES = ("casehall-migrate", "casehall-api", "casehall-worker")
# Which `casehall` subcommand each service runs.
EXPECTED_COMMANDS = {"casehall-migrate": "migrate", "casehall-api": "api", "casehall-worker": "worker"}
# The CLI's subcommands (casehall/cli.py); checked against the real Typer app when it imports.
CLI_SUBCOMMANDS = {"migrate", "api", "worker", "up"}

# The one variable without a default: payloads are never stored in clear in production.
REQUIRED = {"CASEHALL_CODEC_KEYS": Keyring.generate("k1").dumps()}
# Variable sets the stack must stay consistent under: the defaults, and an operator's overrides.
ENVIRONMENTS = {
    "defaults": dict(REQUIRED),
    "overridden": {
        **REQUIRED,
        "POSTGRES_PASSWORD": "s3cret-Pw_1",
        "CASEHALL_TEMPORAL_NAMESPACE": "hall-prod",
        "CASEHALL_TASK_QUEUE": "hall-queue",
        "CASEHALL_LOG_LEVEL": "DEBUG",
    },
}

_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?|:\+|\+)(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable interpolation over a loaded YAML tree (string values only)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg = match["op"], match["arg"] or ""
        is_set, current = name in env, env.get(name, "")
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if is_set else arg
        if op in (":?", "?"):
            if (op == ":?" and not current) or not is_set:
                raise KeyError(f"required variable {name} is missing: {arg}")
            return current
        if op == ":+":
            return arg if current else ""
        if op == "+":
            return arg if is_set else ""
        if not is_set:
            raise KeyError(f"variable {name} has no default and is not set")
        return current

    return _VAR.sub(replace, value)


def raw_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    return interpolate(raw_compose(), REQUIRED if env is None else env)


@pytest.fixture(params=sorted(ENVIRONMENTS), ids=sorted(ENVIRONMENTS))
def env_vars(request: pytest.FixtureRequest) -> dict[str, str]:
    return ENVIRONMENTS[request.param]


@pytest.fixture
def compose(env_vars: dict[str, str]) -> dict[str, Any]:
    return load_compose(env_vars)


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    services = compose["services"]
    assert name in services, f"service {name!r} missing; have {sorted(services)}"
    return services[name]


def environment(svc: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict of strings (mapping or `KEY=value` list syntax)."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {pair[0]: pair[1] if len(pair) == 2 else "" for pair in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def ports(svc: dict[str, Any]) -> list[tuple[int | None, int]]:
    """(published, container) port pairs, short or long syntax."""
    result: list[tuple[int | None, int]] = []
    for entry in svc.get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            result.append((int(published) if published is not None else None, int(entry["target"])))
            continue
        parts = str(entry).split("/", 1)[0].split(":")
        container = int(parts[-1])
        published = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
        result.append((published, container))
    return result


def command(svc: dict[str, Any]) -> list[str]:
    cmd = svc.get("command")
    assert cmd, "service has no command"
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    if current:
        logical.append(current)
    result = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (ins, _) in enumerate(instructions) if ins == "FROM")
    return instructions[last_from:]


def exec_form(args: str) -> list[str]:
    try:
        parsed = json.loads(args)
    except json.JSONDecodeError:
        return shlex.split(args)
    assert isinstance(parsed, list), f"not an exec-form list: {args}"
    return [str(part) for part in parsed]


# --- services ---------------------------------------------------------------------------------------


def test_all_services_exist(compose: dict[str, Any]) -> None:
    expected = {"postgres", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", *CASEHALL_SERVICES}
    assert expected <= set(compose["services"]), sorted(expected - set(compose["services"]))
    assert service(compose, "postgres")["image"].split(":")[0] == "postgres"
    assert service(compose, "postgres")["image"].split(":")[1].startswith("16")
    # Temporal's current images: the server alone, the schema and namespace set-up by admin-tools (one-shot).
    assert service(compose, "temporal")["image"].startswith("temporalio/server:")
    assert service(compose, "temporal-schema")["image"].startswith("temporalio/admin-tools:")
    assert service(compose, "temporal-setup")["image"].startswith("temporalio/admin-tools:")
    assert service(compose, "temporal-ui")["image"].startswith("temporalio/ui:")
    assert "auto-setup" not in COMPOSE_FILE.read_text(encoding="utf-8").split("deprecated")[-1]


def test_every_variable_but_the_codec_keys_has_a_default() -> None:
    """`docker compose up` works with only CASEHALL_CODEC_KEYS set; without it Compose stops, naming the command."""
    resolved = load_compose(dict(REQUIRED))
    assert set(CASEHALL_SERVICES) <= set(resolved["services"])
    with pytest.raises(KeyError, match="casehall keys new"):
        load_compose({})


def test_codec_keys_reach_every_casehall_service(compose: dict[str, Any]) -> None:
    for name in CASEHALL_SERVICES:
        keys = environment(service(compose, name))["CASEHALL_CODEC_KEYS"]
        assert keys == REQUIRED["CASEHALL_CODEC_KEYS"] and Keyring.parse(keys).current_id == "k1"


def test_postgres_has_a_volume_and_a_pg_isready_healthcheck(compose: dict[str, Any]) -> None:
    pg = service(compose, "postgres")
    targets = [str(v).split(":")[1] if isinstance(v, str) else v["target"] for v in pg.get("volumes", [])]
    assert "/var/lib/postgresql/data" in targets
    named = [str(v).split(":")[0] for v in pg["volumes"] if isinstance(v, str)]
    assert any(name in (compose.get("volumes") or {}) for name in named), (
        "postgres data is not a named volume"
    )
    test = pg["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))


# --- casehall environment ------------------------------------------------------------------------------


def test_casehall_env_anchor_holds_only_settings_fields() -> None:
    raw = raw_compose()
    anchor = raw.get("x-casehall-env")
    assert isinstance(anchor, dict) and anchor, "x-casehall-env anchor missing or empty"
    prefix = Settings.model_config["env_prefix"]
    assert prefix == "CASEHALL_"
    for key in anchor:
        assert key.startswith(prefix), f"{key} in x-casehall-env is not a CASEHALL_ variable"


def test_every_casehall_variable_is_a_settings_field(compose: dict[str, Any]) -> None:
    prefix = Settings.model_config["env_prefix"]
    used: set[str] = set(raw_compose()["x-casehall-env"])
    for name, svc in compose["services"].items():
        used |= {key for key in environment(svc) if key.startswith(prefix)}
        assert name in CASEHALL_SERVICES or not any(k.startswith(prefix) for k in environment(svc)), (
            f"{name} is not a casehall service but sets CASEHALL_ variables"
        )
    unknown = {key for key in used if key[len(prefix) :].lower() not in Settings.model_fields}
    assert not unknown, f"not fields of casehall.core.settings.Settings: {sorted(unknown)}"
    # The ones production cannot run without: otherwise the app falls back to its embedded stack.
    assert {"CASEHALL_DATABASE_URL", "CASEHALL_TEMPORAL_ADDRESS", "CASEHALL_API_HOST"} <= used


def test_casehall_services_share_one_environment_and_image(compose: dict[str, Any]) -> None:
    anchor = compose["x-casehall-env"]
    for name in CASEHALL_SERVICES:
        assert environment(service(compose, name)) == {k: str(v) for k, v in anchor.items()}, (
            f"{name} environment drifted from x-casehall-env"
        )
    api, worker = service(compose, "casehall-api"), service(compose, "casehall-worker")
    assert api.get("build") is not None, "casehall-api is not built from this repository"
    assert api.get("build") == worker.get("build")
    assert api.get("image") == worker.get("image")
    assert service(compose, "casehall-migrate").get("image") == api.get("image")
    build = api["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE


def test_settings_load_from_compose_environment(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("CASEHALL_"):
            monkeypatch.delenv(key)
    for key, value in environment(service(compose, "casehall-api")).items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert not settings.embedded_database
    assert not settings.embedded_temporal
    assert settings.api_host == "0.0.0.0"
    assert settings.api_port == 8000
    assert settings.data_dir.is_absolute()
    for name in ("casehall-api", "casehall-worker"):
        mounts = [
            str(v).split(":")[1] for v in service(compose, name).get("volumes", []) if isinstance(v, str)
        ]
        assert str(settings.data_dir) in mounts, f"{name} does not persist CASEHALL_DATA_DIR"


# --- wiring between services ---------------------------------------------------------------------------


def test_database_url_points_at_the_postgres_service(
    compose: dict[str, Any], env_vars: dict[str, str]
) -> None:
    pg_env = environment(service(compose, "postgres"))
    url = urlsplit(compose["x-casehall-env"]["CASEHALL_DATABASE_URL"])
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres" and url.hostname in compose["services"]
    assert (url.port or 5432) == 5432
    assert unquote(url.username or "") == pg_env["POSTGRES_USER"] == "casehall"
    assert url.path.lstrip("/") == pg_env["POSTGRES_DB"] == "casehall"
    assert unquote(url.password or "") == pg_env["POSTGRES_PASSWORD"]
    if "POSTGRES_PASSWORD" in env_vars:
        assert pg_env["POSTGRES_PASSWORD"] == env_vars["POSTGRES_PASSWORD"]


def test_temporal_uses_the_same_postgres_credentials(compose: dict[str, Any]) -> None:
    pg_env = environment(service(compose, "postgres"))
    temporal = service(compose, "temporal")
    t_env = environment(temporal)
    assert t_env["DB"] == "postgres12"
    assert t_env["POSTGRES_SEEDS"] == "postgres"
    assert int(t_env["DB_PORT"]) == 5432
    assert t_env["POSTGRES_USER"] == pg_env["POSTGRES_USER"]
    assert t_env["POSTGRES_PWD"] == pg_env["POSTGRES_PASSWORD"]
    schema = service(compose, "temporal-schema")
    assert environment(schema) == {k: v for k, v in t_env.items() if k in environment(schema)}
    assert {"DB", "DB_PORT", "POSTGRES_USER", "POSTGRES_PWD", "POSTGRES_SEEDS", "DBNAME", "VISIBILITY_DBNAME"} <= set(
        environment(schema)), "the schema step and the server use the same database settings"
    assert schema["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert schema.get("restart") == "no", "a one-shot step must not restart"
    assert temporal["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"


def _script(svc: dict[str, Any]) -> str:
    """The set-up script a one-shot admin-tools step runs (mounted from deploy/)."""
    entry = svc["entrypoint"]
    assert entry[0] == "/bin/sh", entry
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in svc.get("volumes", [])}
    assert entry[1] in mounts, f"{entry[1]} is not mounted"
    path = (ROOT / mounts[entry[1]]).resolve()
    assert path.parent == DEPLOY and path.is_file(), path
    return path.read_text(encoding="utf-8")


def test_schema_step_creates_and_migrates_both_databases(compose: dict[str, Any]) -> None:
    script = _script(service(compose, "temporal-schema"))
    for needed in ("create-database", "setup-schema", "update-schema", "${DBNAME", "${VISIBILITY_DBNAME",
                   "${POSTGRES_SEEDS}", "${POSTGRES_PWD}", "/etc/temporal/schema/postgresql/v12", "set -eu"):
        assert needed in script, needed


def test_setup_step_registers_the_namespace_and_casehalls_search_attributes(compose: dict[str, Any]) -> None:
    setup = service(compose, "temporal-setup")
    env = environment(setup)
    assert env["TEMPORAL_ADDRESS"] == compose["x-casehall-env"]["CASEHALL_TEMPORAL_ADDRESS"]
    assert env["NAMESPACE"] == compose["x-casehall-env"]["CASEHALL_TEMPORAL_NAMESPACE"]
    declared = [tuple(pair.split("=")) for pair in env["SEARCH_ATTRIBUTES"].split()]
    assert declared == describe(), "docker-compose.yml and casehall.workflows.observability.KEYS drifted apart"
    script = _script(setup)
    for needed in ("namespace create", "search-attribute create", "${SEARCH_ATTRIBUTES}", "${NAMESPACE}"):
        assert needed in script, needed
    assert setup["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert setup.get("restart") == "no"


def test_temporal_dynamic_config_is_mounted(compose: dict[str, Any]) -> None:
    temporal = service(compose, "temporal")
    path = environment(temporal).get("DYNAMIC_CONFIG_FILE_PATH")
    if path is None:
        pytest.skip("temporal runs on the image's built-in dynamic config")
    target = path if path.startswith("/") else f"/etc/temporal/{path}"
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in temporal.get("volumes", [])}
    assert target in mounts, f"{target} is not mounted into temporal"
    source = (ROOT / mounts[target]).resolve()
    assert source.is_file(), f"{source} missing"
    assert isinstance(yaml.safe_load(source.read_text(encoding="utf-8")), dict)


def test_temporal_address_points_at_the_temporal_service(compose: dict[str, Any]) -> None:
    address = compose["x-casehall-env"]["CASEHALL_TEMPORAL_ADDRESS"]
    host, _, port = address.rpartition(":")
    assert host == "temporal" and host in compose["services"]
    container_ports = {container for _, container in ports(service(compose, "temporal"))}
    assert int(port) == 7233 and int(port) in container_ports
    assert (7233, 7233) in ports(service(compose, "temporal"))
    assert environment(service(compose, "temporal-ui"))["TEMPORAL_ADDRESS"] == address


def test_temporal_registers_casehalls_namespace(compose: dict[str, Any], env_vars: dict[str, str]) -> None:
    namespace = compose["x-casehall-env"]["CASEHALL_TEMPORAL_NAMESPACE"]
    assert environment(service(compose, "temporal-setup"))["NAMESPACE"] == namespace
    assert namespace == env_vars.get("CASEHALL_TEMPORAL_NAMESPACE", "default")


def test_api_is_published_on_its_configured_port(compose: dict[str, Any]) -> None:
    api_port = int(compose["x-casehall-env"]["CASEHALL_API_PORT"])
    assert ports(service(compose, "casehall-api")) == [(api_port, api_port)]
    assert api_port == 8000
    assert not ports(service(compose, "casehall-worker")), "the worker serves nothing"


def test_temporal_ui_is_published_on_8233(compose: dict[str, Any]) -> None:
    assert ports(service(compose, "temporal-ui")) == [(8233, 8080)]


def test_startup_order(compose: dict[str, Any]) -> None:
    migrate = service(compose, "casehall-migrate")
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate.get("restart", "no") == "no", "a one-shot migration must not restart"
    for name in ("casehall-api", "casehall-worker"):
        deps = service(compose, name)["depends_on"]
        assert deps["casehall-migrate"]["condition"] == "service_completed_successfully"
        assert deps["temporal-setup"]["condition"] == "service_completed_successfully"
        assert "temporal" in deps
    # Every "wait until healthy" needs a healthcheck to wait on.
    for name, svc in compose["services"].items():
        deps = svc.get("depends_on") or {}
        for dep, spec in deps.items() if isinstance(deps, dict) else []:
            assert dep in compose["services"], f"{name} depends on unknown service {dep}"
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in compose["services"][dep], f"{dep} has no healthcheck"


# --- commands ------------------------------------------------------------------------------------------


def test_compose_commands_are_casehall_subcommands(compose: dict[str, Any]) -> None:
    for name, subcommand in EXPECTED_COMMANDS.items():
        cmd = command(service(compose, name))
        assert cmd[0] == "casehall", f"{name} does not run the casehall CLI: {cmd}"
        assert cmd[1:] == [subcommand], f"{name} runs {cmd}"
        assert subcommand in CLI_SUBCOMMANDS


def test_compose_commands_exist_in_the_typer_app(compose: dict[str, Any]) -> None:
    cli = pytest.importorskip("casehall.cli.main", reason="casehall.cli.main not written yet")
    import typer.main

    group = typer.main.get_command(cli.app)
    names = set(getattr(group, "commands", {}))
    for name in EXPECTED_COMMANDS:
        assert command(service(compose, name))[1] in names, f"{name}: not a subcommand of {sorted(names)}"


def test_casehall_is_the_console_script() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["casehall"] == "casehall.cli.main:app"


# --- Dockerfile ----------------------------------------------------------------------------------------


def test_dockerfile_runs_the_casehall_api_by_default() -> None:
    stage = final_stage()
    assert stage[0][1].split()[0] == "python:3.11-slim"
    entrypoint = [exec_form(args) for ins, args in stage if ins == "ENTRYPOINT"]
    cmd = [exec_form(args) for ins, args in stage if ins == "CMD"]
    assert cmd, "final stage has no CMD"
    argv = (entrypoint[-1] if entrypoint else []) + cmd[-1]
    assert argv[0] == "casehall", argv
    assert argv[1:] == ["api"], argv
    assert argv[1] in CLI_SUBCOMMANDS


def test_dockerfile_runs_as_non_root() -> None:
    users = [args for ins, args in final_stage() if ins == "USER"]
    assert users, "final stage runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]


def test_dockerfile_exposes_the_api_port() -> None:
    exposed = {int(p.split("/")[0]) for ins, args in final_stage() if ins == "EXPOSE" for p in args.split()}
    api_port = int(load_compose()["x-casehall-env"]["CASEHALL_API_PORT"])
    assert exposed == {api_port}


def test_dockerfile_installs_without_local_or_dev_extras() -> None:
    installs = [args for ins, args in dockerfile_instructions() if ins == "RUN" and "pip install" in args]
    assert installs, "the Dockerfile never runs pip install"
    assert any(re.search(r"pip install[^&;]*\s\.(\s|$)", args) for args in installs), installs
    for args in installs:
        assert "[" not in args, f"extras installed in production: {args}"
        assert " -e " not in f" {args} ", f"editable install in production: {args}"


def test_dockerignore_keeps_secrets_and_venv_out() -> None:
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".venv", ".git"} <= patterns
    for needed in ("pyproject.toml", "casehall", "migrations", "README.md"):
        assert needed not in patterns, f"{needed} is needed by `pip install .`"


# --- the checker itself --------------------------------------------------------------------------------


def test_interpolation_matches_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d}|${UNSET:-d}|${EMPTY:-d}|${EMPTY-d}|$$SET|$SET", env) == "x|d|d||$SET|x"
    with pytest.raises(KeyError):
        interpolate("${UNSET}", env)
    assert ports({"ports": ["127.0.0.1:8233:8080", "7233:7233/tcp", "9000"]}) == [
        (8233, 8080),
        (7233, 7233),
        (None, 9000),
    ]


# --- codec server, metrics ----------------------------------------------------------------------------------------


def test_temporal_ui_decodes_with_casehalls_codec_server(compose: dict[str, Any]) -> None:
    ui_env = environment(service(compose, "temporal-ui"))
    endpoint = urlsplit(ui_env["TEMPORAL_CODEC_ENDPOINT"])
    assert endpoint.path == "/codec"
    assert (endpoint.port or 80) == int(compose["x-casehall-env"]["CASEHALL_API_PORT"])
    origins = compose["x-casehall-env"]["CASEHALL_CODEC_CORS_ORIGINS"].split(",")
    published = {p for p, c in ports(service(compose, "temporal-ui")) if c == 8080}
    assert any(urlsplit(o).port in published for o in origins), "the UI's origin is not allowed by the codec CORS"


def test_metrics_are_served_and_scraped(compose: dict[str, Any]) -> None:
    env = compose["x-casehall-env"]
    assert env["CASEHALL_API_METRICS"] == "true"
    worker_port = int(env["CASEHALL_WORKER_METRICS_ADDRESS"].rpartition(":")[2])
    assert not env.get("CASEHALL_OTLP_ENDPOINT"), "tracing is off unless an operator names a collector"
    prom = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
    targets: set[str] = set()
    for job in prom["scrape_configs"]:
        targets |= {t for cfg in job.get("static_configs", []) for t in cfg["targets"]}
        targets |= {f"{n}:{cfg['port']}" for cfg in job.get("dns_sd_configs", []) for n in cfg["names"]}
    assert f"casehall-api:{env['CASEHALL_API_PORT']}" in targets
    assert f"casehall-worker:{worker_port}" in targets
    temporal_metrics = environment(service(compose, "temporal"))["PROMETHEUS_ENDPOINT"].rpartition(":")[2]
    assert f"temporal:{temporal_metrics}" in targets
    prometheus = service(compose, "prometheus")
    assert prometheus.get("profiles") == ["monitoring"], "monitoring runs only when asked for"
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in prometheus["volumes"]}
    assert (ROOT / mounts["/etc/prometheus/prometheus.yml"]).resolve() == DEPLOY / "prometheus.yml"


def test_grafana_dashboard_uses_series_casehall_exports() -> None:
    """Every casehall_ series a panel queries is one the code defines (the dashboard cannot drift silently)."""
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "casehall.json").read_text(encoding="utf-8"))
    defined: set[str] = set()
    for module in ("casehall/core/metrics.py", "casehall/workflows/observability.py"):
        defined |= set(re.findall(r'"(casehall_[a-z_]+)"', (ROOT / module).read_text(encoding="utf-8")))
    used: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\b(casehall_[a-z_]+)", target["expr"]))
    assert used, "the dashboard queries no casehall series"
    suffixes = ("_total", "_bucket", "_count", "_sum")
    unknown = {u for u in used if u not in defined and not any(u.endswith(x) and u[: -len(x)] in defined
                                                                   for x in suffixes)}
    assert not unknown, f"series no code exports: {sorted(unknown)}"
    assert {"casehall_opened", "casehall_closed", "casehall_escalations", "casehall_refused_writes",
            "casehall_archive_lag_seconds"} <= {u for u in used}
