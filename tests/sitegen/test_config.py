from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.config import load_config, schema_markdown
from sitegen.errors import BuildFailed, Problems

ROOT = Path(__file__).resolve().parents[2]


def test_repository_site_yaml_is_valid() -> None:
    problems = Problems()
    config = load_config(ROOT / "site.yaml", problems)
    assert problems.errors == [] and problems.warnings == []
    assert config.default_region.id == "intl"
    assert config.regions["pk"].countries == ["PK"]
    assert config.privacy.retention.inquiries_months == 12
    assert [p.id for p in config.chat.providers] == ["groq", "cerebras", "openrouter", "gemini"]


def test_docs_configuration_is_generated_from_the_schema() -> None:
    assert (ROOT / "docs/configuration.md").read_text(encoding="utf-8") == schema_markdown(), (
        "docs/configuration.md is stale: run `sitegen config-docs > docs/configuration.md`"
    )


def test_every_problem_is_collected_with_file_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(
        "title: X\nbase_url: ftp://x\nregions:\n  a:\n    label: A\n    currency: usd\n    hreflang: en\n"
        "    locale: en_US\n    default: yes\n    colour: red\n"
    )
    with pytest.raises(BuildFailed) as info:
        load_config(tmp_path / "site.yaml")
    assert [str(e) for e in info.value.errors] == [
        "site.yaml:2: base_url: expected an absolute http(s) URL, got 'ftp://x'",
        "site.yaml:6: regions.a.currency: expected a 3-letter ISO code, got 'usd'",
    ]
    assert [str(w) for w in info.value.warnings] == [
        "site.yaml:10: regions.a.colour: unknown key; known keys: label, currency, hreflang, locale, countries, default, params"
    ]


def test_missing_required_keys(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("title: X\n")
    with pytest.raises(BuildFailed) as info:
        load_config(tmp_path / "site.yaml")
    assert [str(e) for e in info.value.errors] == [
        "site.yaml:1: base_url: required key is missing",
        "site.yaml:1: regions: required key is missing",
    ]
