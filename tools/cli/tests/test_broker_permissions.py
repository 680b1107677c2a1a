"""deploy/rabbitmq/users.sh lets each service's broker user publish exactly the billing
events it publishes (billing_domain.event_publishers): a new type missing from the
topic permission would be refused by the broker in production only."""

import re
from pathlib import Path

import pytest
from billing_domain.event_publishers import PUBLISHED
from billing_domain.events import EVENT_TYPES

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "rabbitmq" / "users.sh"


def topic_permissions() -> dict[str, re.Pattern[str] | None]:
    """Each user's topic write pattern; ``None`` for a user that publishes nothing."""
    blocks = SCRIPT.read_text().split("\nuser ")[1:]
    found: dict[str, re.Pattern[str] | None] = {}
    for block in blocks:
        name = block.split()[0]
        patterns = re.findall(r"'(\^billing[^']*)'", block)
        found[name] = re.compile(patterns[-1].replace("\\\\", "\\")) if patterns else None
    return found


def test_each_service_may_publish_its_types_and_no_other() -> None:
    permissions = topic_permissions()
    publishing = {name: allowed for name, allowed in permissions.items() if allowed is not None}
    assert set(publishing) == set(PUBLISHED)
    assert set(permissions) - set(publishing) == {"analytics"}  # it consumes only
    for service, allowed in publishing.items():
        for event_type in EVENT_TYPES:
            key = f"billing.{event_type}"
            mine = event_type in PUBLISHED[service]
            assert bool(allowed.fullmatch(key)) is mine, (service, key)
