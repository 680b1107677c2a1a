import pytest

from billing_domain.event_publishers import PUBLISHED, PUBLISHER, publisher_of
from billing_domain.events import EVENT_TYPES

pytestmark = pytest.mark.unit


def test_every_catalogued_type_has_exactly_one_publisher() -> None:
    published = [event_type for types in PUBLISHED.values() for event_type in types]
    assert len(published) == len(set(published))
    assert set(PUBLISHER) == set(EVENT_TYPES)


def test_publisher_of() -> None:
    assert publisher_of("subscription.updated") == "webhooks"
    assert publisher_of("subscription.activated") == "subscriptions"
    assert publisher_of("customer.created") == "checkout"
    assert publisher_of("something.new") is None
