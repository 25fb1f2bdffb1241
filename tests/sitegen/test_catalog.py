"""catalog: one service per YAML file, resolved and priced per region."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.catalog import read_catalog
from sitegen.config import load_config
from sitegen.errors import BuildFailed, Problems
from tests.support.sitefactory import build_site, write_site

SERVICES = {
    "content/services/b.yaml": """
        id: branding
        name:
          pk: Branding and Identity
          default: Branding
        summary: Logos.
        order: 2
        price:
          pk: {amount: 40000, unit: project}
          intl: {amount: 500.25, currency: EUR, unit: project}
    """,
    "content/services/a.yaml": """
        id: web
        name: Web
        order: 1
        features:
          pk: [Urdu and English]
          default: [English]
        price:
          pk: {amount: 80000, from: true}
    """,
    "content/services/c.yml": """
        id: care
        name: Care plan
        regions: [intl]
        price:
          intl: {amount: 49, unit: month}
        body:
          intl: Monthly updates.
    """,
}


@pytest.fixture()
def catalog(tmp_path: Path) -> tuple[Problems, list[dict[str, object]], list[dict[str, object]]]:
    write_site(tmp_path, dict(SERVICES))
    config = load_config(tmp_path / "site.yaml")
    problems = Problems()
    services = read_catalog(config, tmp_path / "content", problems)
    views = {
        rid: [s.view(rid, config, f"/{rid}/services/{s.id}/") for s in services if rid in s.regions]
        for rid in config.region_ids
    }
    return problems, views["pk"], views["intl"]


def test_services_are_ordered_resolved_and_priced(
    catalog: tuple[Problems, list[dict[str, object]], list[dict[str, object]]],
) -> None:
    problems, pk, intl = catalog
    assert problems.errors == [] and problems.warnings == []
    assert [(s["id"], s["name"], s["price_text"]) for s in pk] == [
        ("web", "Web", "from Rs 80,000"),
        ("branding", "Branding and Identity", "Rs 40,000"),  # "project" needs no "per"
    ]
    assert [(s["id"], s["name"], s["price_text"]) for s in intl] == [
        ("web", "Web", "Price on request"),  # offered everywhere, priced only in pk
        ("branding", "Branding", "€500.25"),  # the price's own currency, in the region's locale
        ("care", "Care plan", "$49 per month"),
    ]
    assert pk[0]["features"] == ["Urdu and English"] and intl[0]["features"] == ["English"]
    assert intl[1]["price"] == {
        "amount": 500.25,
        "currency": "EUR",
        "unit": "project",
        "from": False,
        "text": "€500.25",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id: Web Dev\nname: x\n",
            "content/services/x.yaml:1: service id must be lowercase letters, digits and '-', got 'Web Dev'",
        ),
        (
            "id: x\nname: x\nprice:\n  pk: {amount: -5}\n",
            "content/services/x.yaml:3: price for region 'pk' needs a non-negative 'amount', got -5",
        ),
        (
            "id: x\nname: x\nprice:\n  pk: {amount: 5, currency: rs}\n",
            "content/services/x.yaml:3: price currency: expected a 3-letter ISO code, got 'rs'",
        ),
        (
            "id: x\nname: x\nregions: [mars]\n",
            "content/services/x.yaml:3: unknown region id 'mars' in regions (known: pk, intl)",
        ),
        (
            "id: web\nname: Again\n",
            "content/services/x.yaml:1: service id 'web' is also used by content/services/a.yaml",
        ),
    ],
)
def test_catalog_errors_name_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    write_site(tmp_path, {**SERVICES, "content/services/x.yaml": text})
    problems = Problems()
    read_catalog(load_config(tmp_path / "site.yaml"), tmp_path / "content", problems)
    assert [str(e) for e in problems.errors] == [expected]


def test_unknown_service_key_warns_with_did_you_mean(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/services/x.yaml": "id: x\nname: X\nsumary: typo\n"})
    problems = Problems()
    read_catalog(load_config(tmp_path / "site.yaml"), tmp_path / "content", problems)
    assert [str(w) for w in problems.warnings] == [
        "content/services/x.yaml:3: unknown service key 'sumary'; did you mean 'summary'?"
    ]


@pytest.mark.parametrize(
    ("body", "line"), [("body: Hi {{ nope }}.\n", 3), ("body: |\n  Intro.\n\n  Hi {{ nope }}.\n", 6)]
)
def test_errors_in_a_service_body_point_at_its_line(tmp_path: Path, body: str, line: int) -> None:
    write_site(tmp_path, {"content/services/w.yaml": "id: w\nname: W\n" + body})
    with pytest.raises(BuildFailed) as failed:
        build_site(tmp_path)
    assert [str(e) for e in failed.value.errors] == [
        f"content/services/w.yaml:{line}: undefined name 'nope' in {{{{ nope }}}}; check the spelling, or define it in site.yaml"
    ]


def test_a_price_for_a_region_without_the_service_warns(tmp_path: Path) -> None:
    text = "id: x\nname: X\nregions: [pk]\nprice:\n  pk: {amount: 1}\n  intl: {amount: 2}\n"
    write_site(tmp_path, {"content/services/x.yaml": text})
    problems = Problems()
    read_catalog(load_config(tmp_path / "site.yaml"), tmp_path / "content", problems)
    assert problems.errors == []
    assert [str(w) for w in problems.warnings] == [
        "content/services/x.yaml:4: price for intl is never shown: the service is offered only in pk"
    ]
