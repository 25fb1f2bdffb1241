import datetime as dt
from decimal import Decimal

import pytest

from sitegen.regions import NotText, format_price, format_value, is_region_map, present_in, resolve

IDS = ["pk", "intl", "eu"]


def test_region_map_needs_only_region_keys() -> None:
    assert is_region_map({"pk": 1, "intl": 2}, IDS)
    assert is_region_map({"pk": 1, "default": 2}, IDS)
    assert not is_region_map({"default": 2}, IDS)
    assert not is_region_map({"pk": 1, "name": 2}, IDS)
    assert not is_region_map({}, IDS)


def test_resolve_picks_region_then_default_recursively() -> None:
    value = {"title": {"pk": "Salam", "default": "Hello"}, "items": [{"pk": 1, "intl": 2}]}
    assert resolve(value, "pk", IDS) == {"title": "Salam", "items": [1]}
    assert resolve(value, "eu", IDS) == {"title": "Hello", "items": [None]}
    assert not present_in({"pk": 1}, "intl", IDS)
    assert present_in({"pk": 1, "default": 0}, "intl", IDS)


def test_prices_formatted_for_the_locale() -> None:
    assert format_price(80000, "PKR", "en_PK") == "Rs 80,000"
    assert format_price(900, "USD", "en_US") == "$900"
    assert format_price(12.5, "USD", "en_US") == "$12.50"
    assert format_price(1500, "EUR", "de_DE") == "1.500\xa0€"
    assert format_price(5000, "AED", "en_AE") == "AED 5,000"


# --------------------------------------------------------------------------- what {{ … }} shows an editor


def test_values_show_the_regions_way() -> None:
    assert format_value("Karachi", "en_PK") == "Karachi"
    assert (format_value(True, "en_PK"), format_value(False, "en_PK")) == ("yes", "no")
    assert format_value(80000, "en_PK") == "80,000"
    assert format_value(1234.5, "de_DE") == "1.234,5"
    assert format_value(Decimal("2.50"), "en_US") == "2.5"
    assert format_value(dt.date(2026, 12, 1), "en_US") == "December 1, 2026"
    assert format_value(dt.datetime(2026, 12, 1, 14, 5), "en_US") == "Dec 1, 2026, 2:05:00\u202fPM"
    assert format_value(dt.date(2024, 2, 29), "de_DE") == "29. Februar 2024"
    assert format_value(dt.datetime(2024, 2, 29, 14, 5), "de_DE") == "29.02.2024, 14:05:00"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([1, 2], "is a list: show its items with {% for item in … %}{{ item }}{% endfor %}"),
        ((1, 2), "is a list: show its items with {% for item in … %}{{ item }}{% endfor %}"),
        ({"a": 1}, "is a group of values: name the one to show, e.g. {{ x.name }}"),
        (None, "is empty: give it a value in the YAML, or test it with {% if … %}"),
        (
            object(),
            "is not text (a group of settings or a function): name one value, e.g. {{ region.label }}",
        ),
    ],
)
def test_a_value_without_a_text_form_says_what_to_write_instead(value: object, reason: str) -> None:
    with pytest.raises(NotText) as caught:
        format_value(value, "en_PK")
    assert str(caught.value) == reason


def test_whole_prices_drop_the_fraction_and_others_keep_it() -> None:
    assert format_price(Decimal("80000.00"), "PKR", "en_PK") == "Rs 80,000"
    assert format_price(80000.5, "PKR", "en_PK") == "Rs 80,000.50"
    assert format_price(1234, "JPY", "ja_JP") == "\uffe51,234"
    # A symbol of letters already followed by a space is left alone.
    assert format_price(12, "CHF", "de_CH") == "CHF\xa012"


def test_region_maps_compare_keys_as_text_and_take_any_iterable_of_ids() -> None:
    assert is_region_map({2026: "x", "default": "y"}, ["2026"])
    assert not is_region_map(["pk"], IDS)
    nested = {"title": {"pk": "Salam", "default": "Hello"}, "items": [{"pk": 1, "intl": 2}]}
    assert resolve(nested, "pk", iter(IDS)) == {"title": "Salam", "items": [1]}
    assert present_in({"pk": 1}, "pk", iter(IDS)) and not present_in({"pk": 1}, "eu", iter(IDS))


def test_a_value_missing_for_a_region_is_none_and_present_elsewhere() -> None:
    value = {"pk": 0, "intl": ""}
    assert resolve(value, "pk", IDS) == 0 and resolve(value, "intl", IDS) == ""
    assert resolve(value, "eu", IDS) is None
    assert present_in(value, "pk", IDS) and not present_in(value, "eu", IDS)
    assert present_in("plain text", "eu", IDS)
    assert resolve(["a", {"eu": "b"}], "eu", IDS) == ["a", "b"]
    assert resolve({"pk": {"pk": "deep", "intl": "x"}}, "pk", IDS) == "deep"
