import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_domain.errors import RuleViolated
from billing_domain.money import Money

pytestmark = pytest.mark.unit

amounts = st.integers(min_value=-(10**12), max_value=10**12)


def usd(amount: int) -> Money:
    return Money(amount=amount, currency="usd")


def test_currency_is_normalised_to_lower_case() -> None:
    assert Money(amount=5, currency="EUR") == Money(amount=5, currency="eur")


@pytest.mark.parametrize("currency", ["us", "usdd", "u$d", "", "12a"])
def test_currency_must_be_three_letters(currency: str) -> None:
    with pytest.raises(RuleViolated) as caught:
        Money(amount=1, currency=currency)
    assert caught.value.code == "bad_currency"


@pytest.mark.parametrize("amount", [1.5, True, "100"])
def test_amount_must_be_an_integer(amount: object) -> None:
    with pytest.raises(RuleViolated) as caught:
        Money(amount=amount, currency="usd")  # type: ignore[arg-type]
    assert caught.value.code == "bad_amount"


def test_cannot_mix_currencies() -> None:
    with pytest.raises(RuleViolated) as caught:
        usd(1) + Money(amount=1, currency="eur")
    assert caught.value.code == "currency_mismatch"
    with pytest.raises(RuleViolated):
        usd(1) - Money(amount=1, currency="eur")


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        (usd(1234), "$12.34"),
        (usd(5), "$0.05"),
        (usd(-1234), "-$12.34"),
        (usd(0), "$0.00"),
        (Money(amount=1234, currency="eur"), "12.34 EUR"),
        (Money(amount=1234, currency="jpy"), "1234 JPY"),
        (Money(amount=1234, currency="kwd"), "1.234 KWD"),
    ],
)
def test_format(money: Money, shown: str) -> None:
    assert money.format() == shown


@settings(max_examples=100, deadline=None)
@given(amounts, amounts)
def test_add_then_sub_is_identity(a: int, b: int) -> None:
    assert (usd(a) + usd(b)) - usd(b) == usd(a)
    assert usd(a) + usd(b) == usd(b) + usd(a)
    assert usd(a) + Money.zero("usd") == usd(a)
    assert -usd(a) + usd(a) == Money.zero("usd")
    assert (usd(a) - usd(a)).is_zero
