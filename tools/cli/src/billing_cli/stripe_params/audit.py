"""The Stripe parameter audit: every parameter path our adapters send, checked
against the pinned SDK's definition of its endpoint.

``billing stripe audit-params`` (or ``python -m billing_cli.stripe_params``) runs
every adapter method against a sandbox of its own (in-process, on a free port),
records the requests the SDK sends, and prints
each endpoint's parameter paths with a verdict, then ``N paths: U unknown, D
deprecated`` (plus any request to an endpoint the SDK does not know, with
another ``Stripe-Version`` than ``STRIPE_API_VERSION``, or an adapter method the
scenario did not call). Exit status 0 only when all of those are zero;
tools/cli/tests/test_stripe_params_audit.py runs it in CI.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from billing_platform.settings import BillingSettings
from billing_platform.stripe_gateway import STRIPE_API_VERSION, StripeCaller, build_stripe_client

from billing_cli.stripe_params.definition import Verdict, check_path, endpoint_for
from billing_cli.stripe_params.recording import RecordingHTTPClient, SentRequest
from billing_cli.stripe_params.scenario import Scenario, adapter_methods

SANDBOX_KEY = "sk_test_params_audit"


@dataclass(kw_only=True)
class AuditReport:
    verdicts: list[Verdict] = field(default_factory=list)
    unknown_endpoints: list[str] = field(default_factory=list)
    other_versions: list[str] = field(default_factory=list)
    not_exercised: list[str] = field(default_factory=list)

    @property
    def unknown(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.unknown is not None]

    @property
    def deprecated(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.deprecated is not None]

    @property
    def ok(self) -> bool:
        problems = (self.unknown, self.deprecated, self.unknown_endpoints, self.other_versions)
        return not any(problems) and not self.not_exercised

    def lines(self) -> list[str]:
        out: list[str] = []
        for verdict in self.verdicts:
            mark = (
                f"UNKNOWN ({verdict.unknown})"
                if verdict.unknown
                else f"DEPRECATED ({verdict.deprecated})"
                if verdict.deprecated
                else "ok"
            )
            out.append(f"{verdict.endpoint}  {verdict.path}  {mark}")
        out += [f"UNKNOWN ENDPOINT {name}" for name in self.unknown_endpoints]
        out += [f"OTHER STRIPE-VERSION {name}" for name in self.other_versions]
        out += [f"NOT EXERCISED {name}" for name in self.not_exercised]
        out.append(
            f"{len(self.verdicts)} paths: {len(self.unknown)} unknown, "
            f"{len(self.deprecated)} deprecated (Stripe API {STRIPE_API_VERSION})"
        )
        return out


def judge(sent: Iterable[SentRequest]) -> AuditReport:
    """Each distinct (endpoint, path) once, in the order first sent."""
    report = AuditReport()
    seen: set[tuple[str, str]] = set()
    for request in sent:
        name = f"{request.method.upper()} {request.path}"
        if request.stripe_version != STRIPE_API_VERSION and name not in report.other_versions:
            report.other_versions.append(f"{name}: {request.stripe_version}")
        endpoint = endpoint_for(request.method, request.path)
        if endpoint is None:
            report.unknown_endpoints.append(name)
            continue
        for path, _ in request.params:
            if (endpoint.name, path) not in seen:
                seen.add((endpoint.name, path))
                report.verdicts.append(check_path(endpoint.params, path, endpoint.name))
    return report


async def audit(sandbox_url: str, price_ids: dict[str, str]) -> AuditReport:
    """Run every adapter method against the sandbox at ``sandbox_url`` and judge
    what was sent."""
    recorder = RecordingHTTPClient()
    settings = BillingSettings(stripe_api_key=SANDBOX_KEY, stripe_api_base=sandbox_url)
    caller = StripeCaller(build_stripe_client(settings, http_client=recorder))
    scenario = Scenario(caller, sandbox_url, price_ids)
    try:
        await scenario.run()
    finally:
        await recorder.close_async()
    report = judge(recorder.sent)
    report.not_exercised = sorted(adapter_methods() - scenario.exercised)
    return report


@contextlib.asynccontextmanager
async def own_sandbox() -> AsyncIterator[tuple[str, dict[str, str]]]:
    from stripe_sandbox.config import SandboxConfig
    from stripe_sandbox.pytest_plugin import plan_price_ids
    from stripe_sandbox.server import running

    async with running(SandboxConfig(port=0)) as sandbox:
        yield sandbox.url, await plan_price_ids(sandbox)
