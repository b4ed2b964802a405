"""Failed sign-ins: one answer and one cost for every failure, whatever the account, and
a growing wait per address and per account instead of a lock anyone could set (issue 17)."""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake_service import create_app
from intake_service.access import accounts
from intake_service.access.rules import sign_in_delay

PASSWORD = "un-mot-de-passe-long"
VICTIM = "cic@ddsp31.test"
ATTACKER = "203.0.113.66"
VICTIM_ADDRESS = "198.51.100.7"
CSRF_TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def pages(config: Any, clock: Any) -> Any:
    # The per-address rate limit has its own tests; here it would stop the attempts first.
    app = create_app(config.with_overrides({"rate_limit_sign_in": ""}), clock=clock)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.extensions["intake.db"].transaction() as session:
        accounts.add_user(session, VICTIM, PASSWORD, "command_centre", "ddsp-31", now=clock.now)
    yield app
    app.extensions["intake.db"].dispose()


def client_at(app: Any, address: str) -> FlaskClient:
    client: FlaskClient = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client: FlaskClient, email: str, password: str) -> tuple[int, str]:
    answer = client.post("/connexion", data={"email": email, "password": password})
    # The form gives back what was typed, and a CSRF token of its own; the rest of the
    # page must not differ.
    page = CSRF_TOKEN.sub("csrf", answer.get_data(as_text=True))
    return answer.status_code, page.replace(email, "<email>")


def fail_until_delayed(client: FlaskClient, email: str) -> None:
    for _ in range(sign_in_delay.FREE_FAILURES):
        assert attempt(client, email, "pas le bon mot de passe")[0] == 401


def test_every_failure_gets_the_same_answer(pages: Any) -> None:
    unknown = attempt(client_at(pages, "192.0.2.1"), "nobody@ddsp31.test", "x" * 20)
    wrong = attempt(client_at(pages, "192.0.2.2"), VICTIM, "pas le bon mot de passe")
    hammering = client_at(pages, "192.0.2.3")
    fail_until_delayed(hammering, VICTIM)
    delayed = attempt(hammering, VICTIM, PASSWORD)  # even the right password, unchecked
    fail_until_delayed(hammering, "nobody@ddsp31.test")
    delayed_unknown = attempt(hammering, "nobody@ddsp31.test", PASSWORD)
    assert unknown[0] == wrong[0] == delayed[0] == delayed_unknown[0] == 401
    assert unknown[1] == wrong[1] == delayed[1] == delayed_unknown[1]
    assert "verrouillé" not in unknown[1]
    assert "Adresse électronique ou mot de passe incorrect" in unknown[1]


def test_a_disabled_account_gets_the_same_answer(pages: Any, clock: Any) -> None:
    wrong = attempt(client_at(pages, "192.0.2.2"), VICTIM, "pas le bon mot de passe")
    with pages.extensions["intake.db"].transaction() as session:
        accounts.disable_user(session, VICTIM, now=clock.now)
    disabled = attempt(client_at(pages, "192.0.2.4"), VICTIM, PASSWORD)
    assert disabled == wrong


def _median_seconds(client: FlaskClient, email: str, password: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        attempt(client, email, password)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_unknown_wrong_and_delayed_accounts_cost_the_same_time(pages: Any) -> None:
    # Warm up (first request, first argon2 call) before measuring.
    attempt(client_at(pages, "192.0.2.9"), "warm@up.test", "x")
    delayed = client_at(pages, "192.0.2.10")
    fail_until_delayed(delayed, VICTIM)
    rounds = 5
    # Each measure from its own address, so only the one meant to be delayed is.
    unknown = _median_seconds(client_at(pages, "192.0.2.11"), "nobody@ddsp31.test", "x", rounds)
    wrong = _median_seconds(client_at(pages, "192.0.2.12"), VICTIM, "pas le bon", rounds)
    held = _median_seconds(delayed, VICTIM, "pas le bon", rounds)
    for ratio in (unknown / wrong, held / unknown):
        assert 0.5 <= ratio <= 2.0, (unknown, wrong, held)


def test_the_victim_signs_in_from_elsewhere_while_the_attackers_address_waits(
    pages: Any, clock: Any
) -> None:
    attacker = client_at(pages, ATTACKER)
    for _ in range(3 * sign_in_delay.FREE_FAILURES):
        attacker.post("/connexion", data={"email": VICTIM, "password": "devine"})
        clock.advance(seconds=1)
    # The attacker's address is held back: even the right password is not checked.
    assert attempt(attacker, VICTIM, PASSWORD)[0] == 401
    # The victim, from its own address, is not.
    victim = client_at(pages, VICTIM_ADDRESS)
    assert (
        victim.post("/connexion", data={"email": VICTIM, "password": PASSWORD}).status_code == 302
    )


def test_an_address_trying_many_accounts_is_held_back(pages: Any) -> None:
    sprayer = client_at(pages, ATTACKER)
    for n in range(sign_in_delay.FREE_FAILURES):
        attempt(sprayer, f"someone{n}@ddsp31.test", "Printemps2026!")
    assert attempt(sprayer, VICTIM, PASSWORD)[0] == 401
    assert attempt(client_at(pages, VICTIM_ADDRESS), VICTIM, PASSWORD)[0] == 302


def test_the_wait_grows_then_lets_the_right_password_in(pages: Any, clock: Any) -> None:
    client = client_at(pages, ATTACKER)
    fail_until_delayed(client, VICTIM)
    first = sign_in_delay.wait_after(sign_in_delay.FREE_FAILURES)
    assert first > sign_in_delay.wait_after(sign_in_delay.FREE_FAILURES - 1)
    clock.advance(seconds=first.total_seconds())
    assert attempt(client, VICTIM, "toujours pas")[0] == 401  # checked, a failure more
    second = sign_in_delay.wait_after(sign_in_delay.FREE_FAILURES + 1)
    assert second > first
    clock.advance(seconds=second.total_seconds() - 0.5)
    assert attempt(client, VICTIM, PASSWORD)[0] == 401  # too early: not checked
    clock.advance(seconds=0.5)
    assert attempt(client, VICTIM, PASSWORD)[0] == 302


def test_a_success_clears_the_accounts_failures(pages: Any, clock: Any) -> None:
    client = client_at(pages, "192.0.2.20")
    for _ in range(sign_in_delay.FREE_FAILURES - 1):
        attempt(client, VICTIM, "faux")
    assert attempt(client, VICTIM, PASSWORD)[0] == 302
    # The account's count started again; this address's own count did not, on purpose
    # (signing in to one's own account must not reset a spraying address).
    other = client_at(pages, "192.0.2.21")
    for _ in range(sign_in_delay.FREE_FAILURES - 1):
        attempt(other, VICTIM, "faux")
    assert attempt(other, VICTIM, PASSWORD)[0] == 302
