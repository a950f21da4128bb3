"""Bad query parameters of the analytics and progress endpoints: 422s that name the field, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import dataset
from tests.api.conftest import Auth

QUICK = "/api/v1/analytics/quick-stats"
DASHBOARD = "/api/v1/analytics/dashboard"
EXPORT = "/api/v1/analytics/export"
PROGRESS = "/api/v1/goals/progress"


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (QUICK, {"date_range": "14d"}, "date_range"),
        (QUICK, {"date_range": "7d", "start_date": "2025-03-01", "end_date": "2025-03-02"}, "date_range"),
        (QUICK, {"start_date": "2025-03-01"}, "end_date"),
        (QUICK, {"end_date": "2025-03-01"}, "start_date"),
        (QUICK, {"start_date": "2025-03-02", "end_date": "2025-03-01"}, "start_date"),
        (QUICK, {"start_date": "2024-01-01", "end_date": "2025-01-01"}, "end_date"),  # 367 days
        (QUICK, {"start_date": "2025-02-30", "end_date": "2025-03-01"}, "start_date"),
        (QUICK, {"start_date": "2025-03-01", "end_date": "yesterday"}, "end_date"),
        (QUICK, {"start_date": "0001-01-01", "end_date": "0001-01-02"}, "start_date"),
        (QUICK, {"start_date": "9999-12-30", "end_date": "9999-12-31"}, "start_date"),
        (QUICK, {"start_date": "99999-01-01", "end_date": "99999-01-02"}, "start_date"),
        (QUICK, {"view_context": "mobile"}, "view_context"),
        (DASHBOARD, {"period": "daily"}, "period"),
        (DASHBOARD, {"category_id": "work"}, "category_id"),
        (DASHBOARD, {"category_id": str(dataset.OTHERS_CATEGORY)}, "category_id"),
        (DASHBOARD, {"category_id": str(uuid.uuid4())}, "category_id"),
        (DASHBOARD, {"start_date": "2025-13-01"}, "start_date"),
        (EXPORT, {}, "start_date"),
        (EXPORT, {"start_date": "2025-03-01", "end_date": "2025-03-31", "format": "xlsx"}, "format"),
        (EXPORT, {"start_date": "2025-03-31", "end_date": "2025-03-01"}, "start_date"),
        (EXPORT, {"start_date": "2020-01-01", "end_date": "2025-03-01"}, "end_date"),
        (PROGRESS, {"period": "yearly"}, "period"),
        (PROGRESS, {"start_date": "2025-3-1"}, "start_date"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    goals_client: TestClient, auth: Auth, url: str, params: dict[str, Any], field: str
) -> None:
    response = goals_client.get(url, params=params, headers=auth(dataset.NY))
    assert response.status_code == 422, response.text
    assert ("query", field) in [tuple(error["loc"]) for error in response.json()["detail"]]
    assert all(error["msg"] for error in response.json()["detail"])


def test_someone_elses_category_reads_like_a_missing_one(goals_client: TestClient, auth: Auth) -> None:
    theirs = goals_client.get(DASHBOARD, params={"category_id": str(dataset.OTHERS_CATEGORY)}, headers=auth(dataset.NY))
    missing = goals_client.get(DASHBOARD, params={"category_id": str(uuid.uuid4())}, headers=auth(dataset.NY))
    assert theirs.status_code == missing.status_code == 422
    assert theirs.json()["detail"][0]["msg"] == missing.json()["detail"][0]["msg"]


def test_a_366_day_range_is_accepted_by_validation(goals_client: TestClient, auth: Auth) -> None:
    # No marts in this database: validation passes and the API says the marts are missing (503, not 500).
    response = goals_client.get(
        QUICK, params={"start_date": "2024-01-01", "end_date": "2024-12-31"}, headers=auth(dataset.NY)
    )
    assert response.status_code == 503
    assert "pulse build" in response.json()["detail"]
