"""Every route the app registers refuses bad tokens, and goal routes hide other users' goals behind 404."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.core.security import TokenError, mint_token, user_id_from_token
from api.main import create_app
from pulse.settings import JWT_SECRET_PLACEHOLDER, Settings
from tests.api import dataset
from tests.api.conftest import Auth

# Routes that need no token: probes, the OpenAPI documents and their assets, the Prometheus metrics (no user
# data). Anything else must refuse.
PUBLIC_PATHS = {"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# The built front end (api/web.py): its files and the index.html fallback are public, like any web page;
# no /api path falls back to it (tests/api/test_web.py).
WEB_PATHS = {"/assets/{path}", "/{path}"}
PUBLIC_PATHS |= {"/static-offline-docs/{path}", "/metrics"}
GOAL_BODY = {"name": "hijack", "target_type": "minutes", "target_value": 1, "time_period": "daily"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bad_tokens(settings: Settings) -> dict[str, str | None]:
    """Tokens that must all be refused, by name."""
    now = int(time.time())
    sub = str(dataset.NY)
    claims = {"sub": sub, "iat": now, "exp": now + 600}
    return {
        "missing": None,
        "expired": mint_token(dataset.NY, settings, expires_in=-3600),
        "wrongly signed": jwt.encode(claims, "another-secret-" + "y" * 32, algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg None": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(claims)}.",
        "HS512": jwt.encode(claims, settings.jwt_secret, algorithm="HS512"),  # the right key, a refused algorithm
        "no exp": jwt.encode({"sub": sub}, settings.jwt_secret, algorithm="HS256"),
        "sub not a uuid": jwt.encode({**claims, "sub": "ny@example.com"}, settings.jwt_secret, algorithm="HS256"),
        "garbage": "not.a.token",
    }


def concrete_path(path: str, goal_id: uuid.UUID) -> str:
    return path.replace("{goal_id}", str(goal_id))


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every route the app registers except the public ones, checked against its OpenAPI."""
    app = client.app
    assert isinstance(app, FastAPI)
    found: list[tuple[str, str]] = []
    public_seen = set()
    for route in iter_route_contexts(app.routes):
        path = route.path_format
        assert path is not None
        if path in PUBLIC_PATHS:
            public_seen.add(path)
            continue
        if path in WEB_PATHS:
            continue
        assert isinstance(route.original_route, APIRoute), f"unexpected route kind at {path}"
        found.extend((method, path) for method in sorted(route.methods or ()))
    assert public_seen == PUBLIC_PATHS
    documented = {
        (method.upper(), path)
        for path, operations in client.get("/openapi.json").json()["paths"].items()
        for method in operations
        if path not in PUBLIC_PATHS
    }
    assert documented == set(found)
    assert len(found) >= 8
    return found


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_every_route_refuses_every_bad_token(goals_client: TestClient, api_settings: Settings) -> None:
    tokens = bad_tokens(api_settings)
    for method, path in api_routes(goals_client):
        url = concrete_path(path, dataset.goal_id(dataset.NY, "daily tasks"))
        body = GOAL_BODY if method in ("POST", "PUT") else None
        for name, token in tokens.items():
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            response = goals_client.request(method, url, json=body, headers=headers)
            assert response.status_code == 401, f"{method} {url} with a {name} token: {response.status_code}"
            assert response.headers.get("www-authenticate") == "Bearer", f"{method} {url} ({name})"
        basic = goals_client.request(method, url, json=body, headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert basic.status_code == 401


def test_public_routes_need_no_token(goals_client: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert goals_client.get(path).status_code == 200, path


def test_someone_elses_goal_is_404_exactly_like_a_missing_one(
    goals_client: TestClient, auth: Auth, goals_db: str
) -> None:
    goal_routes = [(m, p) for m, p in api_routes(goals_client) if "{goal_id}" in p]
    assert {m for m, _ in goal_routes} >= {"GET", "PUT", "DELETE"}
    for method, route in goal_routes:
        body = {"name": "hijack"} if method == "PUT" else None
        theirs = goals_client.request(method, concrete_path(route, dataset.OTHERS_GOAL), json=body,
                                      headers=auth(dataset.NY))  # fmt: skip
        missing = goals_client.request(method, concrete_path(route, uuid.uuid4()), json=body, headers=auth(dataset.NY))
        assert theirs.status_code == missing.status_code == 404, method
        assert theirs.json() == missing.json()
    with psycopg.connect(goals_db) as conn:
        row = conn.execute("select name from app.goals where goal_id = %s", (dataset.OTHERS_GOAL,)).fetchone()
    assert row == ("private goal",)
    own = goals_client.get(f"/api/v1/goals/{dataset.OTHERS_GOAL}", headers=auth(dataset.OTHER))
    assert own.status_code == 200 and own.json()["name"] == "private goal"


def test_tokens_round_trip_and_check_audience_and_issuer() -> None:
    settings = Settings(env="test", jwt_secret="s" * 40, jwt_audience="pulse-app", jwt_issuer="pulse")
    token = mint_token(dataset.KTM, settings)
    assert user_id_from_token(token, settings) == dataset.KTM
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["aud"], claims["iss"]) == ("pulse-app", "pulse")
    plain = Settings(env="test", jwt_secret="s" * 40)
    for other in (
        mint_token(dataset.KTM, plain),  # neither aud nor iss
        mint_token(dataset.KTM, Settings(env="test", jwt_secret="s" * 40, jwt_audience="x", jwt_issuer="pulse")),
        mint_token(dataset.KTM, Settings(env="test", jwt_secret="s" * 40, jwt_audience="pulse-app", jwt_issuer="y")),
    ):
        with pytest.raises(TokenError):
            user_id_from_token(other, settings)


def test_empty_audience_and_issuer_variables_mean_unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_JWT_AUDIENCE", "")
    monkeypatch.setenv("PULSE_JWT_ISSUER", " ")
    settings = Settings(env="test", jwt_secret="s" * 40)
    assert (settings.jwt_audience, settings.jwt_issuer) == (None, None)
    assert user_id_from_token(mint_token(dataset.NY, settings), settings) == dataset.NY


def test_small_clock_skew_is_tolerated(api_settings: Settings) -> None:
    just_expired = mint_token(dataset.NY, api_settings, expires_in=-5)
    assert user_id_from_token(just_expired, api_settings) == dataset.NY
    with pytest.raises(TokenError, match="expired"):
        user_id_from_token(mint_token(dataset.NY, api_settings, expires_in=-120), api_settings)


def test_the_placeholder_secret_is_refused_outside_development() -> None:
    assert Settings(env="development").jwt_secret == JWT_SECRET_PLACEHOLDER
    for env in ("test", "production"):
        with pytest.raises(ValueError, match="PULSE_JWT_SECRET"):
            Settings(env=env)
        with pytest.raises(ValueError, match="PULSE_JWT_SECRET"):
            create_app(Settings(env=env))
    with pytest.raises(ValueError, match="at least 32"):
        Settings(env="production", jwt_secret="short")
