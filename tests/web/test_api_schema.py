"""The API against its own OpenAPI schema with schemathesis: generated valid and invalid requests,
every check (no server error, status codes, content types, response bodies and headers as
documented, valid data accepted, invalid data rejected). Bounded: a fixed number of examples per
operation over a fake assistant, so it runs in seconds in CI."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from web.app import create_app

from .test_api import FakeAssistant

schemathesis = pytest.importorskip("schemathesis")

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(FakeAssistant()))


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case):
    case.call_and_validate()
