"""Feature flags: goals, the dashboard and the CSV export each behind a flag, as router dependencies.

The release rule: in production (``PULSE_ENV=production``) a feature is off until it
is listed in ``PULSE_FEATURES`` (comma-separated, e.g. ``goals,export``), after its
sign-off; in every other environment (development, the demo, tests) all are on.
A route of a disabled feature answers 404, as a route that does not exist, and
``GET /api/v1/features`` lists every feature with its state, so the front end can
hide what is off.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from pydantic import BaseModel, Field

from api.deps import CurrentUser
from pulse.settings import Settings

FeatureName = Literal["goals", "dashboard", "export"]
FEATURES: tuple[FeatureName, ...] = ("goals", "dashboard", "export")


class FeatureState(BaseModel):
    """One feature and whether this deployment serves it."""

    name: FeatureName
    enabled: bool = Field(description="False: its routes answer 404 and the front end hides it.")


class FeatureList(BaseModel):
    """Every feature of the API with its state."""

    features: list[FeatureState]


def enabled_features(settings: Settings) -> frozenset[str]:
    """The features this deployment serves; ValueError naming PULSE_FEATURES when it lists an unknown one."""
    listed = {name.strip() for name in settings.features.split(",") if name.strip()}
    unknown = sorted(listed - set(FEATURES))
    if unknown:
        raise ValueError(f"PULSE_FEATURES: unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    if settings.env != "production":
        return frozenset(FEATURES)
    return frozenset(listed)


def install_features(app: FastAPI, settings: Settings) -> None:
    """Decide the app's features once, from its settings (fails at start-up on an unknown name)."""
    app.state.features = enabled_features(settings)


def requires(feature: FeatureName) -> Any:
    """A dependency (for ``dependencies=[...]`` of a router or route) that answers 404 while ``feature`` is off."""

    async def feature_enabled(request: Request) -> None:
        if feature not in request.app.state.features:
            raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Not Found")

    return Depends(feature_enabled)


router = APIRouter(tags=["features"])


@router.get("/features", response_model=FeatureList, summary="The API's features and whether each is on")
async def list_features(request: Request, user_id: CurrentUser) -> FeatureList:
    """Every feature (goals, dashboard, export) with ``enabled``; the front end hides those that are off."""
    on: frozenset[str] = request.app.state.features
    return FeatureList(features=[FeatureState(name=name, enabled=name in on) for name in FEATURES])
