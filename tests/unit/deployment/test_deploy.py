"""The deployment files say what the code does: commands exist, variables are read."""

from __future__ import annotations

import importlib
import runpy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from intake_service.cli import main
from intake_service.platform.config import ENV_VARS, Config

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
WORKER_SERVICES = (
    "relay",
    "webhooks",
    "linker",
    "appointments",
    "notices",
    "mailer",
    "escalation",
    "retention",
    "digest",
    "direct-line-alerts",
    "meeting-reminders",
)
APP_SERVICES = (
    "migrate",
    "api",
    "relay",
    "escalation",
    "webhooks",
    "retention",
    "linker",
    "appointments",
    "mailer",
    "direct-line-alerts",
)
# Variables of the third-party images, not of this service.
IMAGE_VARIABLES = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}


class Recording(Mapping[str, str]):
    """An environment that notes which variables are read."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return {
            "DATABASE_URL": "postgresql://db/x",
            "BROKER_URL": "redis://r",
            "SECRET_KEY": "x",
        }.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_env_vars_lists_exactly_what_the_config_reads() -> None:
    env = Recording()
    Config.from_env(env)
    assert env.read == set(ENV_VARS)


def test_the_compose_file_defines_the_production_services() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "redis", "rabbitmq", *APP_SERVICES} <= set(services)
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert (
        "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in (services["prometheus"]["volumes"])
    )
    for name in ("postgres", "redis", "api"):
        assert "healthcheck" in services[name], name
    for name in APP_SERVICES[1:]:
        assert services[name]["restart"] == "unless-stopped"
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_worker_is_checked_by_its_own_heartbeat(name: str) -> None:
    """A worker serves no HTTP: the image's check on port 8000 would call it unhealthy."""
    service = COMPOSE["services"][name]
    command = service["command"]
    if command[:2] != ["intake-service", "workers"]:
        return
    test = service["healthcheck"]["test"]
    assert test[1:] == ["intake-service", "status", "--worker", *command[2:]]
    resolve(test[2:4])


def resolve(args: list[str]) -> click.Command:
    command: click.Command = main
    for arg in args:
        assert isinstance(command, click.Group), f"{args}: {arg!r} under a command that has none"
        sub = command.get_command(click.Context(command), arg)
        assert sub is not None, f"no command {arg!r} in {args}"
        command = sub
        if not isinstance(command, click.Group):
            break
    return command


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_service_command_exists(name: str) -> None:
    command = COMPOSE["services"][name]["command"]
    if command[0] == "intake-service":
        resolve(command[1:])
        if command[1] == "workers":
            from workers.runner import build_workers

            build_workers(
                Config.from_env(
                    {"SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "BROKER_URL": "memory://"}
                ),
                None,
                command[2:],
            )  # type: ignore[arg-type]
    else:
        assert command[:3] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
        settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
        from gunicorn.util import load_class
        from gunicorn.workers.gthread import ThreadWorker

        assert issubclass(load_class(settings["worker_class"]), ThreadWorker)
        module, _, factory = command[3].partition(":")
        assert callable(getattr(importlib.import_module(module), factory.removesuffix("()")))


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_variables_are_read_by_the_config_and_hold_no_secret(name: str) -> None:
    environment = COMPOSE["services"][name]["environment"]
    assert set(environment) <= set(ENV_VARS)
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]


def test_image_variables_hold_no_secret() -> None:
    postgres = COMPOSE["services"]["postgres"]["environment"]
    assert set(postgres) <= IMAGE_VARIABLES
    assert postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_the_proxy_alone_is_published_and_the_api_trusts_its_one_hop() -> None:
    services = COMPOSE["services"]
    api, proxy = services["api"], services["proxy"]
    assert "ports" not in api
    assert "8000" in api["expose"]
    assert api["environment"]["TRUSTED_PROXY_HOPS"] == "1"
    assert proxy["ports"] == ["8000:8000"]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    assert "healthcheck" in proxy
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert "./deploy/nginx/stack:/etc/nginx/stack:ro" in proxy["volumes"]
    # The optional monitoring profile's Prometheus publishes its console on 127.0.0.1 only.
    published = {name for name, service in services.items() if "ports" in service}
    assert published - {"proxy"} <= {"prometheus"}
    for port in services.get("prometheus", {}).get("ports", []):
        assert port.startswith("127.0.0.1:")
    assert "server api:8000;" in (ROOT / "deploy" / "nginx" / "stack" / "upstream.conf").read_text()


def test_the_proxy_takes_the_bodies_the_app_takes() -> None:
    from intake_service.direct_line.attachments import request_limit

    nginx = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    config = Config.from_env({"SECRET_KEY": "x"})
    assert config.max_body_bytes == 256 * 1024
    assert "\n    client_max_body_size 256k;\n" in nginx
    assert nginx.count(f"client_max_body_size {request_limit(config)};") == 2
    # The live pages' streams flow: the app turns buffering off for them.
    assert "proxy_buffering on;" in nginx
    live = (ROOT / "intake_service" / "web" / "live.py").read_text()
    assert 'response.headers["X-Accel-Buffering"] = "no"' in live


def test_gunicorn_settings_name_the_problem_worker() -> None:
    from intake_service.deployment import gunicorn_settings
    from intake_service.deployment.gunicorn_worker import ProblemThreadWorker

    module, _, name = gunicorn_settings.WORKER_CLASS.rpartition(".")
    assert getattr(importlib.import_module(module), name) is ProblemThreadWorker


def test_the_dockerfile_runs_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "\nUSER intake\n" in dockerfile


def test_every_worker_container_is_a_service_of_the_compose_file() -> None:
    running = {
        name
        for name, service in COMPOSE["services"].items()
        if service.get("command", [])[:2] == ["intake-service", "workers"]
    }
    assert running == set(WORKER_SERVICES)


@pytest.mark.parametrize("name", WORKER_SERVICES)
def test_every_worker_serves_its_metrics_on_the_stack_network_only(name: str) -> None:
    """What a worker counts (relayed events, consumer outcomes) dies with it unless served."""
    service = COMPOSE["services"][name]
    assert service["environment"]["METRICS_PORT"] == "9100"
    assert service["expose"] == ["9100"]
    assert "ports" not in service  # never published outside the stack


def scrape_jobs() -> dict[str, dict[str, Any]]:
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    return {job["job_name"]: job for job in prometheus["scrape_configs"]}


def test_prometheus_scrapes_every_api_instance_and_every_worker() -> None:
    jobs = scrape_jobs()
    api = jobs["intake-api"]
    assert api.get("metrics_path", "/metrics") == "/metrics"
    assert [(d["names"], d["port"]) for d in api["dns_sd_configs"]] == [(["api"], 9100)]
    workers = jobs["intake-workers"]
    names = [name for config in workers["dns_sd_configs"] for name in config["names"]]
    assert sorted(names) == sorted(WORKER_SERVICES)
    assert {config["port"] for config in workers["dns_sd_configs"]} == {9100}
    assert COMPOSE["services"]["api"]["environment"]["METRICS_PORT"] == "9100"


def test_prometheus_reads_the_deployment_gauges_through_one_target() -> None:
    """One target, so one instance answers each scrape: the database is read once, and no
    sum over instances counts the outbox twice."""
    job = scrape_jobs()["intake-deployment"]
    assert job["metrics_path"] == "/metrics/deployment"
    assert "dns_sd_configs" not in job
    assert [target for config in job["static_configs"] for target in config["targets"]] == [
        "api:9100"
    ]
    other = [name for name in scrape_jobs() if name != "intake-deployment"]
    assert all(scrape_jobs()[name].get("metrics_path", "/metrics") == "/metrics" for name in other)
