"""DATABASE_POOLER and DATABASE_DIRECT_URL: read, checked, and where each connection goes."""

from __future__ import annotations

import pytest

from intake_service.platform.config import Config, ConfigError
from intake_service.platform.db import Database

SERVER = {"SECRET_KEY": "x", "BROKER_URL": "memory://"}


def test_no_pooler_by_default_and_listen_on_the_database_url() -> None:
    config = Config.from_env({**SERVER, "DATABASE_URL": "postgresql://db/intake"})
    assert (config.database_pooler, config.database_direct_url) == ("none", None)
    assert config.migration_target == ("postgresql+psycopg://db/intake", "none")
    database = Database.from_config(config)
    assert database.listen_url == "postgresql+psycopg://db/intake"


def test_transaction_pooler_with_a_direct_url() -> None:
    config = Config.from_env(
        {
            **SERVER,
            "DATABASE_URL": "postgresql://pgbouncer:6432/intake",
            "DATABASE_DIRECT_URL": "postgresql://db:5432/intake",
            "DATABASE_POOLER": "transaction",
        }
    )
    assert config.database_direct_url == "postgresql+psycopg://db:5432/intake"
    assert config.migration_target == ("postgresql+psycopg://db:5432/intake", "none")
    database = Database.from_config(config)
    assert database.listen_url == "postgresql+psycopg://db:5432/intake"


def test_transaction_pooler_without_a_direct_url_listens_nowhere() -> None:
    config = Config.from_env(
        {
            **SERVER,
            "DATABASE_URL": "postgresql://pgbouncer:6432/intake",
            "DATABASE_POOLER": "transaction",
        }
    )
    assert config.migration_target == ("postgresql+psycopg://pgbouncer:6432/intake", "transaction")
    assert Database.from_config(config).listen_url is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "postgresql://db/x", "DATABASE_POOLER": "session"}, "DATABASE_POOLER"),
        ({"DATABASE_POOLER": "transaction"}, "PostgreSQL"),
        ({"DATABASE_DIRECT_URL": "postgresql://db/x"}, "DATABASE_DIRECT_URL"),
    ],
)
def test_wrong_pooler_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env({**SERVER, **env})
