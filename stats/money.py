"""Money in the review: exact integer hundredths inside, decimal strings outside.

Every amount the journal holds is a decimal string with at most two places
(``live.core.values.money``), so one integer unit, the hundredth, holds them
all exactly; numpy sums them as int64, never as floats. Output uses the
currency's own places (CNY 2, JPY 0), rounding half up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDRED = Decimal(100)
# ISO 4217 minor units where they are not 2 (the currencies a show may plausibly use).
PLACES = {"JPY": 0, "KRW": 0, "VND": 0, "IDR": 0, "CLP": 0, "ISK": 0, "TWD": 2, "BHD": 3, "KWD": 3, "OMR": 3}


def places(currency: str) -> int:
    return PLACES.get(currency, 2)


def hundredths(amount: object) -> int:
    """``"123.45"`` → 12345. A third place rounds half up; raises ValueError for
    what is not a finite decimal."""
    if isinstance(amount, str):
        whole, dot, cents = amount.partition(".")
        if dot and len(cents) == 2 and whole.isdigit() and cents.isdigit() and whole.isascii():
            return int(whole) * 100 + int(cents)  # the journal's own form, "123.45": no Decimal needed
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return int((value * HUNDRED).to_integral_value(ROUND_HALF_UP))


def text(hundredths_: int, currency: str, divisor: int = 1) -> str:
    """``hundredths_ / divisor`` as a decimal string with the currency's places."""
    value = Decimal(int(hundredths_)) / HUNDRED / Decimal(divisor)
    quantum = Decimal(1).scaleb(-places(currency))
    out = value.quantize(quantum, ROUND_HALF_UP)
    return str(out.copy_abs() if out.is_zero() else out)
