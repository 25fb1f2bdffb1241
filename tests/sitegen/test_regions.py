from sitegen.regions import format_price, is_region_map, present_in, resolve

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
