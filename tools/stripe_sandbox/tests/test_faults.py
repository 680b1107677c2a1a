"""Injected API faults: armed, consumed in order, reported, disarmed."""

import httpx
import pytest

pytestmark = pytest.mark.unit


async def test_armed_faults_answer_then_run_out(http: httpx.AsyncClient) -> None:
    armed = await http.post("/_sandbox/faults", json={"status": 429, "count": 2, "method": "GET"})
    assert armed.status_code == 200
    first = await http.get("/v1/customers")
    assert first.status_code == 429
    assert first.headers["Stripe-Should-Retry"] == "true"
    error = first.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit")
    assert (await http.post("/v1/customers", data={})).status_code == 200  # POST not matched
    assert (await http.get("/v1/customers")).status_code == 429
    assert (await http.get("/v1/customers")).status_code == 200  # used up
    report = (await http.get("/_sandbox/faults")).json()
    assert report["armed"] == []
    assert [(i["method"], i["status"]) for i in report["injected"]] == [("GET", 429), ("GET", 429)]


async def test_server_errors_and_disarm(http: httpx.AsyncClient) -> None:
    await http.post(
        "/_sandbox/faults", json={"status": 500, "count": 5, "path_prefix": "/v1/prices"}
    )
    assert (await http.get("/v1/customers")).status_code == 200
    failed = await http.get("/v1/prices")
    assert failed.status_code == 500
    assert failed.json()["error"] == {"type": "api_error", "message": "Internal error (injected)"}
    await http.delete("/_sandbox/faults")
    assert (await http.get("/v1/prices")).status_code == 200


async def test_bad_fault_is_refused(http: httpx.AsyncClient) -> None:
    assert (await http.post("/_sandbox/faults", json={"status": 418})).status_code == 400
