"""Inquiries are kept for the privacy policy's 12 months when site.yaml names no period.

The period is declared once, in the generator's schema; the built site.json carries it to the
edge, which declares no period of its own: a site.json without one is refused, not purged by a
second default.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge import retention
from edge.inquiries import Inquiry, LocalInquiryStore
from edge.settings import EdgeDataMissing, load_settings
from tests.support.sitefactory import SITE_YAML, build_site, write_site

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
# The agency's published privacy policy: "Contact form inquiries are retained for up to 12 months."
POLICY_MONTHS = 12


def _months_before(when: datetime, months: int) -> datetime:
    total = when.year * 12 + when.month - 1 - months
    return when.replace(year=total // 12, month=total % 12 + 1)


def _inquiry(created: datetime, name: str) -> Inquiry:
    return Inquiry(
        region="pk",
        service=None,
        name=name,
        email="a@example.com",
        phone=None,
        company=None,
        message="Please call me about a website.",
        consent_at=created,
        created_at=created,
    )


def _purge(data_dir: Path, local: Path) -> list[str]:
    """Store one inquiry just inside and one just outside the policy's period; purge; who is left."""
    store = LocalInquiryStore.in_dir(local)
    edge_of_period = _months_before(NOW, POLICY_MONTHS)
    store.add_sync(_inquiry(edge_of_period + timedelta(days=1), "inside"))
    store.add_sync(_inquiry(edge_of_period - timedelta(days=1), "outside"))
    settings = load_settings(environ={}, data_dir=data_dir, local_dir=local)
    retention.run(settings, now=NOW)
    return [row["name"] for row in store.all()]


def _built(root: Path) -> Path:
    write_site(root, {"content/index.md": "---\ntitle: Home\n---\nHi.\n"}, site_yaml=SITE_YAML)
    assert "retention" not in SITE_YAML
    build_site(root)
    return root / "dist" / "_edge"


def test_default_inquiry_retention_is_the_privacy_policys_12_months(tmp_path: Path) -> None:
    data = _built(tmp_path / "site")
    site = json.loads((data / "site.json").read_text(encoding="utf-8"))
    assert site["retention"]["inquiries_months"] == POLICY_MONTHS
    assert _purge(data, tmp_path / "local") == ["inside"]


def test_edge_refuses_a_site_json_without_retention_periods(tmp_path: Path) -> None:
    """A site.json without the periods (an older build) purges nothing and says what to do."""
    data = _built(tmp_path / "site")
    site_file = data / "site.json"
    site = json.loads(site_file.read_text(encoding="utf-8"))
    del site["retention"]
    site_file.write_text(json.dumps(site), encoding="utf-8")
    local = tmp_path / "local"
    with pytest.raises(
        EdgeDataMissing, match=r"site\.json: retention is missing; rebuild with `sitegen build`"
    ):
        _purge(data, local)
    assert sorted(row["name"] for row in LocalInquiryStore.in_dir(local).all()) == ["inside", "outside"]
