"""Prices as people write them in each language.

Indonesian groups thousands with dots ("Rp 2.750.000"), English with commas ("Rp 2,750,000");
the separators come from Django's locale formats for the active language. Rupiah is shown as
"Rp" in English too: it is what every Indonesian marketplace (Tokopedia, Shopee, OLX) shows its
English-speaking users, and "IDR" reads like a bank statement. Whole amounts carry no decimals
(nobody prices a bike at Rp 2.750.000,00); cents are shown only when there are some.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats

SYMBOLS = {"IDR": "Rp", "USD": "US$", "EUR": "€", "SGD": "S$", "MYR": "RM"}


def format_price(amount: Decimal | int | str | None, currency: str = "IDR") -> str:
    """`Rp 2.750.000` (Indonesian) / `Rp 2,750,000` (English) for the active language."""
    if amount is None or amount == "":
        return ""
    value = Decimal(amount)
    places = 0 if value == value.to_integral_value() else 2
    number = formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    return f"{SYMBOLS.get(currency, currency)} {number}"


def plain_amount(amount: Decimal | None) -> str:
    """The amount as a form field shows it for editing: `2750000`, `12.50`, never `2750000.00`."""
    if amount is None:
        return ""
    value = Decimal(amount)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value.quantize(Decimal("0.01")))
