"""Schemathesis over the app's OpenAPI schema, authenticated: no server error, no response that breaks the schema.

Cases are sent through the same TestClient as the other tests (the app's
lifespan and pool stay in one event loop) and checked by Schemathesis. The
user is ``OTHER`` so generated goals never touch the users with hand-computed
figures; the example count is kept small so the run stays well under a minute.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode, checks

from api.main import create_app
from pulse.settings import Settings
from tests.api import dataset
from tests.api.conftest import TEST_SECRET, Auth

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


# The schema comes from the app itself (no request, no database): the same document /openapi.json serves.
schema = schemathesis.openapi.from_dict(create_app(Settings(env="test", jwt_secret=TEST_SECRET)).openapi())
# Valid and invalid inputs alike (negative cases must be refused with a 4xx, never a 5xx).
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], with_security_parameters=False
)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_schema_and_never_fails(case: Any, client: TestClient, auth: Auth) -> None:
    headers = auth(dataset.OTHER)
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    # Replace whatever Authorization the generator made up (any spelling) with the real token.
    kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"} | headers
    kwargs.pop("cookies", None)
    response = client.request(**kwargs)
    assert response.status_code != 401, response.text  # the token is valid: every case reaches the route
    case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs=kwargs)
