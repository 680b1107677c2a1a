"""Stripe's form encoding, decoded."""

from __future__ import annotations

import pytest
from stripe_sandbox.errors import StripeError
from stripe_sandbox.forms import Params, decode_form, merge_metadata

pytestmark = pytest.mark.unit


def test_nested_hashes_arrays_and_expand() -> None:
    body = (
        b"customer=cus_1&items[0][price]=price_a&items[0][quantity]=2&items[1][id]=si_1"
        b"&metadata[tenant_id]=t1&expand[]=latest_invoice&expand[]=customer"
        b"&subscription_details[items][0][price]=p&subscription_details[proration_date]=5"
    )
    assert decode_form(body) == {
        "customer": "cus_1",
        "items": [{"price": "price_a", "quantity": "2"}, {"id": "si_1"}],
        "metadata": {"tenant_id": "t1"},
        "expand": ["latest_invoice", "customer"],
        "subscription_details": {"items": [{"price": "p"}], "proration_date": "5"},
    }


def test_sdk_style_indexed_expand() -> None:
    assert Params(decode_form(b"expand[0]=a&expand[1]=b.c")).strings("expand") == ["a", "b.c"]


@pytest.mark.parametrize("body", [b"a[b=1", b"a]=1", b"a=1&a[b]=2", b"a[]=1&a[x]=2"])
def test_malformed_keys_are_rejected(body: bytes) -> None:
    with pytest.raises(StripeError):
        decode_form(body)


def test_typed_access_reports_stripe_codes() -> None:
    params = Params(decode_form(b"n=abc&flag=yes&sub[x]=1"))
    with pytest.raises(StripeError) as caught:
        params.integer("n")
    assert (caught.value.code, caught.value.param) == ("parameter_invalid_integer", "n")
    with pytest.raises(StripeError) as caught:
        params.flag("flag")
    assert (caught.value.code, caught.value.message) == (None, "Invalid boolean: yes")
    inner = params.sub("sub")
    assert inner is not None
    with pytest.raises(StripeError) as caught:
        inner.req("y")
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "sub[y]")


def test_metadata_merge_follows_stripe() -> None:
    assert merge_metadata({"a": "1", "b": "2"}, {"b": "", "c": "3"}) == {"a": "1", "c": "3"}
    assert merge_metadata({"a": "1"}, {}) == {}
    assert merge_metadata({"a": "1"}, None) == {"a": "1"}
