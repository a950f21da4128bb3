"""Verified bearer tokens are remembered per process (api/core/security.py), never past their ``exp`` nor their key.

Against the real app and the built warehouse: a token remembered while valid is refused with 401
once it has expired, on a route served by FastAPI and on a warm read served by the cache's fast
path; a changed signing key refuses every token signed with the old one at once; refused tokens
are never remembered, and the memory is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.core.cache import ResponseCache
from api.core.security import TokenError, TokenVerifier, mint_token
from pulse.settings import Settings
from tests.api import dataset
from tests.api.conftest import make_client, wait_for_cache_listener

QUICK = "/api/v1/analytics/quick-stats"
FEATURES = "/api/v1/features"
WEEK = {"start_date": "2025-03-03", "end_date": "2025-03-09"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def verifier_of(app: FastAPI) -> TokenVerifier:
    verifier: TokenVerifier = app.state.token_verifier
    return verifier


@pytest.fixture
def strict_app(api_settings: Settings, warehouse_db: str) -> Iterator[tuple[FastAPI, TestClient]]:
    """The app with no leeway on ``exp`` (so an expiry a second away is exact), its cache listening."""
    settings = api_settings.model_copy(update={"jwt_leeway_seconds": 0})
    app, client = make_client(settings, warehouse_db)
    with client:
        wait_for_cache_listener(app)
        yield app, client


def test_a_token_remembered_while_valid_is_refused_after_its_exp(strict_app: tuple[FastAPI, TestClient]) -> None:
    app, client = strict_app
    settings: Settings = app.state.settings
    cache: ResponseCache = app.state.response_cache
    now = time.time()
    token = mint_token(dataset.NY, settings, expires_in=3, now=now)
    expires_at = int(now) + 3
    first = client.get(QUICK, params=WEEK, headers=bearer(token))
    assert first.status_code == 200, first.text
    assert client.get(FEATURES, headers=bearer(token)).status_code == 200
    assert token in verifier_of(app).verified.entries  # remembered
    hits = cache.hits
    assert client.get(QUICK, params=WEEK, headers=bearer(token)).content == first.content
    assert cache.hits == hits + 1  # a warm read, answered from the cache

    while time.time() < expires_at + 0.05:
        time.sleep(0.05)
    for url, params in ((QUICK, WEEK), (FEATURES, {})):
        refused = client.get(url, params=params, headers=bearer(token))
        assert refused.status_code == 401, (url, refused.text)
        assert refused.json() == {"detail": "the token has expired"}
        assert refused.headers["www-authenticate"] == "Bearer"
    assert cache.hits == hits + 1  # the expired token got nothing from the cache
    assert token not in verifier_of(app).verified.entries


def test_a_changed_signing_key_refuses_remembered_tokens_at_once(strict_app: tuple[FastAPI, TestClient]) -> None:
    app, client = strict_app
    old: Settings = app.state.settings
    token = mint_token(dataset.NY, old)
    assert client.get(QUICK, params=WEEK, headers=bearer(token)).status_code == 200
    assert client.get(QUICK, params=WEEK, headers=bearer(token)).status_code == 200  # warm, remembered
    new = old.model_copy(update={"jwt_secret": "a-rotated-secret-" + "z" * 32})
    app.state.settings = new
    try:
        for url, params in ((QUICK, WEEK), (FEATURES, {})):
            refused = client.get(url, params=params, headers=bearer(token))
            assert refused.status_code == 401, (url, refused.text)
            assert refused.json()["detail"].startswith("invalid token: Signature verification failed")
        fresh = mint_token(dataset.NY, new)
        assert client.get(QUICK, params=WEEK, headers=bearer(fresh)).status_code == 200
    finally:
        app.state.settings = old
    assert client.get(QUICK, params=WEEK, headers=bearer(token)).status_code == 200


def test_refused_tokens_are_not_remembered_and_the_memory_is_bounded(api_settings: Settings) -> None:
    verifier = TokenVerifier(max_entries=2)
    users = [dataset.NY, dataset.KTM, dataset.EMPTY]
    tokens = [mint_token(user, api_settings) for user in users]
    for token, user in zip(tokens, users, strict=True):
        assert verifier.user_id(token, api_settings) == user
    assert list(verifier.verified.entries) == tokens[1:]  # the least recently used went
    assert verifier.user_id(tokens[1], api_settings) == dataset.KTM
    assert list(verifier.verified.entries) == [tokens[2], tokens[1]]

    expired = mint_token(dataset.NY, api_settings, expires_in=-3600)
    for bad in (expired, "not.a.token", tokens[0] + "x"):
        with pytest.raises(TokenError):
            verifier.user_id(bad, api_settings)
    assert list(verifier.verified.entries) == [tokens[2], tokens[1]]


def test_a_token_is_remembered_until_its_exp_and_not_with_the_cache_turned_off(api_settings: Settings) -> None:
    now = [time.time()]
    verifier = TokenVerifier(max_entries=10, clock=lambda: now[0])
    token = mint_token(dataset.NY, api_settings, expires_in=600)
    assert verifier.user_id(token, api_settings) == dataset.NY
    remembered = verifier.verified.entries[token]
    assert remembered.user_id == dataset.NY and remembered.expires_at == int(now[0]) + 600
    now[0] = remembered.expires_at  # at exp: verified again (by PyJWT, with its leeway), not taken from memory
    assert verifier.user_id(token, api_settings) == dataset.NY
    assert token not in verifier.verified.entries  # not remembered past its exp

    off = TokenVerifier(max_entries=0)
    assert off.user_id(token, api_settings) == dataset.NY
    assert len(off.verified) == 0
