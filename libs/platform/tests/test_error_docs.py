"""Routes document their errors through one helper, in the one error shape."""

from __future__ import annotations

import pytest
from billing_platform.http.error_docs import error_responses
from fastapi import FastAPI

pytestmark = pytest.mark.unit


def test_every_documented_error_has_the_error_shape_and_retry_after_where_it_applies() -> None:
    app = FastAPI()

    @app.post("/thing", responses=error_responses(401, 409, 429, described={409: "Taken."}))
    async def thing() -> dict[str, str]:
        return {}

    schema = app.openapi()
    responses = schema["paths"]["/thing"]["post"]["responses"]
    assert set(responses) == {"200", "401", "409", "429"}
    for status in ("401", "409", "429"):
        body = responses[status]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ErrorOut"}
    assert responses["409"]["description"] == "Taken."
    assert responses["401"]["description"].startswith("Missing, expired or invalid")
    assert "Retry-After" in responses["429"]["headers"]
    assert "headers" not in responses["401"]
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message"}


def test_a_description_documents_no_status_by_itself() -> None:
    assert set(error_responses(401, described={404: "Gone."})) == {401}


def test_a_status_without_a_generic_description_must_be_described() -> None:
    with pytest.raises(ValueError, match="no description for status 418"):
        error_responses(418)
    assert error_responses(418, described={418: "A teapot."})[418]["description"] == "A teapot."
