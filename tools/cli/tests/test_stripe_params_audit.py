"""The Stripe parameter audit: what our adapters send is what the pinned API defines.

The audit runs every adapter method against the sandbox through the SDK and
checks each recorded parameter path against the SDK's params TypedDicts; the
downgrade's old ``phases[1][iterations]`` (removed in 2025-09-30.clover) is the
case it exists for.
"""

from __future__ import annotations

import pytest
from billing_cli.main import app as cli
from billing_cli.stripe_params.audit import audit as run_audit
from billing_cli.stripe_params.audit import judge
from billing_cli.stripe_params.definition import check_params, check_path, endpoint_for
from billing_cli.stripe_params.recording import SentRequest
from billing_platform.stripe_gateway import STRIPE_API_VERSION
from stripe.params import AccountCreateParams, SubscriptionScheduleUpdateParams
from stripe_sandbox.pytest_plugin import plan_price_ids
from stripe_sandbox.server import RunningSandbox
from subscriptions.adapters.stripe import downgrade_phases
from typer.testing import CliRunner

SCHEDULE_UPDATE = "POST /v1/subscription_schedules/{schedule}"


def _sent(path: str, *params: tuple[str, str], version: str = STRIPE_API_VERSION) -> SentRequest:
    return SentRequest(method="post", path=path, stripe_version=version, params=params)


@pytest.mark.e2e
async def test_every_parameter_our_adapters_send_is_defined_and_current(
    stripe_sandbox: RunningSandbox,
) -> None:
    report = await run_audit(stripe_sandbox.url, await plan_price_ids(stripe_sandbox))

    assert report.not_exercised == []
    assert report.unknown_endpoints == []
    assert report.other_versions == []
    assert [v for v in report.verdicts if not v.ok] == []
    sent = {(v.endpoint, v.path) for v in report.verdicts}
    assert (SCHEDULE_UPDATE, "phases[1][duration][interval]") in sent
    assert not any("iterations" in path for _, path in sent)
    assert report.lines()[-1].startswith(f"{len(sent)} paths: 0 unknown, 0 deprecated")
    assert report.ok


def test_the_removed_iterations_is_unknown_and_fails_the_audit() -> None:
    report = judge(
        [
            _sent(
                "/v1/subscription_schedules/sub_sched_1",
                ("phases[1][items][0][price]", "price_1"),
                ("phases[1][iterations]", "1"),
            )
        ]
    )

    (bad,) = report.unknown
    assert (bad.endpoint, bad.path) == (SCHEDULE_UPDATE, "phases[1][iterations]")
    assert bad.unknown is not None
    assert "2025-09-30.clover" in bad.unknown
    assert not report.ok
    assert report.lines()[-1].startswith("2 paths: 1 unknown, 0 deprecated")


def test_the_downgrade_phases_the_adapter_builds_are_what_stripe_defines() -> None:
    yearly = {"id": "price_y", "recurring": {"interval": "year", "interval_count": 1}}
    phases = downgrade_phases(
        current_price="price_m",
        current_start=1_700_000_000,
        effective_at=1_702_592_000,
        target_price=yearly,
        quantity=1,
    )

    verdicts = check_params(
        SubscriptionScheduleUpdateParams, {"phases": phases, "end_behavior": "release"}
    )
    assert [v for v in verdicts if not v.ok] == []
    assert phases[1].get("duration") == {"interval": "year", "interval_count": 1}
    assert phases[0].get("end_date") == 1_702_592_000


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("phases[0][items][0][pricee]", "no parameter 'pricee'"),
        ("phases[x][end_date]", "no parameter 'x'"),
        ("phases", "an object, sent as a value"),
        ("default_settings", "an object, sent as a value"),
        ("idempotency_key", "no parameter 'idempotency_key'"),  # a header, not a parameter
        ("", "no parameter ''"),
    ],
)
def test_hostile_paths_are_unknown(path: str, problem: str) -> None:
    verdict = check_path(SubscriptionScheduleUpdateParams, path)
    assert verdict.unknown is not None
    assert problem in verdict.unknown


def test_a_parameter_the_sdk_documents_as_deprecated_is_reported() -> None:
    verdict = check_path(AccountCreateParams, "type")
    assert verdict.unknown is None
    assert verdict.deprecated is not None
    assert "deprecated" in verdict.deprecated


def test_endpoints_come_from_the_sdk_and_a_literal_segment_wins() -> None:
    search = endpoint_for("get", "/v1/customers/search")
    retrieve = endpoint_for("get", "/v1/customers/cus_1")
    assert search is not None
    assert search.params.__name__ == "CustomerSearchParams"
    assert retrieve is not None
    assert retrieve.params.__name__ == "CustomerRetrieveParams"
    assert endpoint_for("post", "/v1/no_such_things") is None
    assert endpoint_for("delete", "/v1/checkout/sessions") is None


def test_an_unknown_endpoint_or_another_api_version_fails_the_audit() -> None:
    report = judge(
        [
            _sent("/v1/no_such_things", ("a", "1")),
            _sent("/v1/customers", ("description", "x"), version="2024-06-20"),
        ]
    )
    assert report.unknown_endpoints == ["POST /v1/no_such_things"]
    assert report.other_versions == ["POST /v1/customers: 2024-06-20"]
    assert not report.ok


@pytest.mark.e2e
def test_billing_stripe_audit_params_prints_the_paths_and_exits_0() -> None:
    result = CliRunner().invoke(cli, ["stripe", "audit-params"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()  # (with any log lines an earlier test routed here)
    assert f"{SCHEDULE_UPDATE}  phases[1][duration][interval]  ok" in lines
    [summary] = [line for line in lines if " paths: " in line]
    assert summary.endswith(f"0 unknown, 0 deprecated (Stripe API {STRIPE_API_VERSION})")
