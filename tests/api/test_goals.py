"""Goals CRUD through the real app: scoping, partial updates, validation that names the field."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api import dataset
from tests.api.conftest import Auth

GOALS = "/api/v1/goals"


def fields_of(response: Any) -> list[tuple[Any, ...]]:
    """The ``loc`` of every error of a 422 body."""
    assert response.status_code == 422, response.text
    return [tuple(error["loc"]) for error in response.json()["detail"]]


def new_goal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Focus", "target_type": "minutes", "target_value": 120, "time_period": "weekly"}
    body.update(overrides)
    return body


def test_list_shows_only_the_callers_goals(goals_client: TestClient, auth: Auth) -> None:
    response = goals_client.get(GOALS, headers=auth(dataset.NY))
    assert response.status_code == 200
    names = {goal["name"] for goal in response.json()}
    assert names == {*dataset.NY_GOALS, "inactive"}
    assert str(dataset.OTHERS_GOAL) not in {goal["goal_id"] for goal in response.json()}
    assert goals_client.get(GOALS, headers=auth(dataset.EMPTY)).json() == []


def test_create_read_update_delete(goals_client: TestClient, auth: Auth, goals_db: str) -> None:
    headers = auth(dataset.EMPTY)
    created = goals_client.post(GOALS, json=new_goal(), headers=headers)
    assert created.status_code == 201, created.text
    goal = created.json()
    assert goal["category_id"] is None and goal["is_active"] is True
    assert goal["created_at"] == goal["updated_at"]
    goal_url = f"{GOALS}/{goal['goal_id']}"
    assert goals_client.get(goal_url, headers=headers).json() == goal

    changed = goals_client.put(goal_url, json={"target_value": 90}, headers=headers)
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["target_value"] == 90
    assert {k: v for k, v in after.items() if k not in ("target_value", "updated_at")} == {
        k: v for k, v in goal.items() if k not in ("target_value", "updated_at")
    }
    assert after["updated_at"] > goal["updated_at"]
    with psycopg.connect(goals_db) as conn:
        row = conn.execute("select target_value, updated_at > created_at from app.goals where goal_id = %s",
                           (goal["goal_id"],)).fetchone()  # fmt: skip
    assert row == (90, True)

    assert goals_client.delete(goal_url, headers=headers).status_code == 204
    assert goals_client.get(goal_url, headers=headers).status_code == 404
    assert goals_client.delete(goal_url, headers=headers).status_code == 404


def test_put_null_clears_category_and_absent_keeps_it(goals_client: TestClient, auth: Auth) -> None:
    headers = auth(dataset.NY)
    created = goals_client.post(GOALS, json=new_goal(category_id=str(dataset.WORK)), headers=headers).json()
    goal_url = f"{GOALS}/{created['goal_id']}"
    kept = goals_client.put(goal_url, json={"name": "Renamed"}, headers=headers).json()
    assert kept["category_id"] == str(dataset.WORK) and kept["name"] == "Renamed"
    cleared = goals_client.put(goal_url, json={"category_id": None}, headers=headers).json()
    assert cleared["category_id"] is None and cleared["name"] == "Renamed"
    assert fields_of(goals_client.put(goal_url, json={"name": None}, headers=headers)) == [("body", "name")]
    assert fields_of(goals_client.put(goal_url, json={"is_active": None}, headers=headers)) == [("body", "is_active")]
    deactivated = goals_client.put(goal_url, json={"is_active": False}, headers=headers).json()
    assert deactivated["is_active"] is False
    goals_client.delete(goal_url, headers=headers)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_goal(target_type="hours"), "target_type"),
        (new_goal(time_period="yearly"), "time_period"),
        (new_goal(target_value=0), "target_value"),
        (new_goal(target_value=-5), "target_value"),
        (new_goal(target_value=10**12), "target_value"),
        (new_goal(target_value="many"), "target_value"),
        (new_goal(name=""), "name"),
        (new_goal(name="   "), "name"),
        (new_goal(name="a\x00b"), "name"),
        (new_goal(name="x" * 201), "name"),
        (new_goal(colour="red"), "colour"),
        (new_goal(category_id="not-a-uuid"), "category_id"),
        (new_goal(target_type="percentage", target_value=50), "category_id"),
        (new_goal(target_type="percentage", target_value=101, category_id=str(dataset.WORK)), "target_value"),
        (new_goal(category_id=str(dataset.OTHERS_CATEGORY)), "category_id"),
        (new_goal(category_id=str(uuid.uuid4())), "category_id"),
        ({"name": "Focus", "target_type": "minutes", "target_value": 5}, "time_period"),
    ],
)
def test_create_refuses_bad_bodies_naming_the_field(
    goals_client: TestClient, auth: Auth, body: dict[str, Any], field: str
) -> None:
    response = goals_client.post(GOALS, json=body, headers=auth(dataset.NY))
    assert ("body", field) in fields_of(response)


def test_someone_elses_category_is_refused_like_a_missing_one(goals_client: TestClient, auth: Auth) -> None:
    theirs = goals_client.post(GOALS, json=new_goal(category_id=str(dataset.OTHERS_CATEGORY)), headers=auth(dataset.NY))
    missing = goals_client.post(GOALS, json=new_goal(category_id=str(uuid.uuid4())), headers=auth(dataset.NY))
    assert theirs.status_code == missing.status_code == 422
    assert [e["msg"] for e in theirs.json()["detail"]] == [e["msg"] for e in missing.json()["detail"]]


def test_update_checks_the_merged_goal(goals_client: TestClient, auth: Auth) -> None:
    headers = auth(dataset.NY)
    goal_url = f"{GOALS}/{dataset.goal_id(dataset.NY, 'weekly minutes work')}"
    # Turning a 200-minute goal into a percentage goal leaves target_value 200 > 100.
    assert fields_of(goals_client.put(goal_url, json={"target_type": "percentage"}, headers=headers)) == [
        ("body", "target_value")
    ]
    daily = f"{GOALS}/{dataset.goal_id(dataset.NY, 'weekly percentage work')}"
    assert fields_of(goals_client.put(daily, json={"category_id": None}, headers=headers)) == [("body", "category_id")]
    assert fields_of(goals_client.put(daily, json={"bogus": 1}, headers=headers)) == [("body", "bogus")]
    unchanged = goals_client.get(goal_url, headers=headers).json()
    assert (unchanged["target_type"], unchanged["target_value"]) == ("minutes", 200)


def test_bad_goal_ids_are_422_naming_the_path_parameter(goals_client: TestClient, auth: Auth) -> None:
    for bad in ("nope", "1", "00000000-0000-0000-0000", "%00"):
        assert fields_of(goals_client.get(f"{GOALS}/{bad}", headers=auth(dataset.NY))) == [("path", "goal_id")]


def test_malformed_json_is_422(goals_client: TestClient, auth: Auth) -> None:
    response = goals_client.post(
        GOALS, content=b"{not json", headers={**auth(dataset.NY), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_a_token_of_an_unknown_user_is_refused(goals_client: TestClient, auth: Auth) -> None:
    response = goals_client.post(GOALS, json=new_goal(), headers=auth(uuid.uuid4()))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"name": "a\\ud800b", "target_type": "minutes", "target_value": 5, "time_period": "daily"}', "name"),
        (b'{"name": "ok", "target_type": "minutes", "target_value": 1e400, "time_period": "daily"}', "target_value"),
        (b'{"name": "ok", "target_type": "minutes", "target_value": NaN, "time_period": "daily"}', "target_value"),
        (b'{"name": "ok", "target_type": "minutes", "target_value": 5, "time_period": "daily", "\\udfff": 1}', None),
    ],
)
def test_inputs_json_cannot_echo_are_still_a_422(
    goals_client: TestClient, auth: Auth, raw: bytes, field: str | None
) -> None:
    response = goals_client.post(GOALS, content=raw, headers={**auth(dataset.NY), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    if field is not None:
        assert ("body", field) in fields_of(response)
