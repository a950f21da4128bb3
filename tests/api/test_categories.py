"""The caller's categories: only their own, by name."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api import dataset
from tests.api.conftest import Auth


def test_categories_are_the_callers_own_by_name(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/categories", headers=auth(dataset.NY))
    assert response.status_code == 200
    assert [(c["category_id"], c["name"]) for c in response.json()] == [
        (str(dataset.HEALTH), "Health"),
        (str(dataset.WORK), "Work"),
    ]


def test_categories_need_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/categories").status_code == 401
