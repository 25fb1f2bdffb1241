"""The service catalog: ``content/services/*.yaml``, one service per file.

Each service becomes ``/<region>/services/<id>/`` in the regions it is
offered in, and is listed on the services index and home pages there. Prices
are per region and formatted for the region's locale.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sitegen.blocks import mark_heading_ids
from sitegen.config import REGION_ID, SiteConfig
from sitegen.contentschema import PRICE, SERVICE, Located, check_fields, describe
from sitegen.errors import Problems, SitegenError
from sitegen.markdown import convert, protect_expressions
from sitegen.pages import Page, check_parsed, check_regions
from sitegen.regions import format_price, is_region_map, resolve
from sitegen.yamlio import load_yaml, read_text


@dataclass
class Price:
    amount: float
    currency: str
    unit: str = ""
    from_: bool = False
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "currency": self.currency,
            "unit": self.unit,
            "from": self.from_,
            "text": self.text,
        }


@dataclass
class Service:
    id: str
    file: str
    data: dict[str, Any]
    regions: list[str]
    order: int
    prices: dict[str, Price | None] = field(default_factory=dict)
    page: Page | None = None

    def view(self, region_id: str, config: SiteConfig, url: str) -> dict[str, Any]:
        """The service as templates and content see it in one region."""
        data = resolve(self.data, region_id, config.region_ids)
        price = self.prices.get(region_id)
        return {
            "id": self.id,
            "name": data.get("name", self.id),
            "summary": data.get("summary", ""),
            "features": data.get("features") or [],
            "faq": data.get("faq") or [],
            "order": self.order,
            "url": url,
            "price": price.as_dict() if price else None,
            "price_text": price_text(price) if price else "Price on request",
        }


def price_text(price: Price) -> str:
    text = ("from " if price.from_ else "") + price.text
    return f"{text} per {price.unit}" if price.unit and price.unit not in {"project", "one-off"} else text


def _read_price(
    raw: Any, region_id: str, config: SiteConfig, file: str, line: int, problems: Problems
) -> Price | None:
    value = resolve(raw, region_id, config.region_ids) if is_region_map(raw, config.region_ids) else raw
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {"amount": value}
    if not isinstance(value, dict):
        problems.error(
            f"price for region '{region_id}' must be a mapping with amount and currency", file, line
        )
        return None
    for key in value:
        if key not in PRICE:
            problems.warn(f"unknown price key '{key}' (known: {', '.join(PRICE)})", file, line)
    unit, from_ = value.get("unit", ""), value.get("from", False)
    if not isinstance(unit, str) or not isinstance(from_, bool):
        problems.error(
            f"price for region '{region_id}': 'unit' must be text and 'from' true or false, "
            f"got {describe(unit)} and {describe(from_)}",
            file,
            line,
        )
        return None
    amount = value.get("amount")
    if not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount < 0:
        problems.error(
            f"price for region '{region_id}' needs a non-negative 'amount', got {amount!r}", file, line
        )
        return None
    region = config.regions[region_id]
    currency = value.get("currency", region.currency)
    if not isinstance(currency, str) or not re.match(r"^[A-Z]{3}$", currency):
        problems.error(f"price currency: expected a 3-letter ISO code, got {currency!r}", file, line)
        return None
    price = Price(amount, currency, unit, from_)
    price.text = format_price(amount, currency, region.locale)
    return price


def read_service(config: SiteConfig, path: Path, content_dir: Path, problems: Problems) -> Service | None:
    source = PurePosixPath(path.relative_to(content_dir).as_posix())
    file = f"{content_dir.name}/{source}"
    try:
        text = read_text(path, file)
        data, lines = load_yaml(text, file)
    except SitegenError as exc:
        problems.add(exc)
        return None
    if not isinstance(data, dict):
        problems.error("a service file is a mapping: id, name, summary, price…", file, 1)
        return None
    fields = _Fields(file, data, lines)
    for key in data:
        if key not in SERVICE:
            hint = difflib.get_close_matches(str(key), list(SERVICE), n=1, cutoff=0.6)
            did = f"; did you mean '{hint[0]}'?" if hint else ""
            problems.warn(f"unknown service key '{key}'{did}", file, fields.line(str(key)))
    sid = data.get("id", path.stem)
    if not isinstance(sid, str) or not REGION_ID.match(sid):
        problems.error(
            f"service id must be lowercase letters, digits and '-', got {sid!r}", file, fields.line("id")
        )
        return None
    if not data.get("name"):
        problems.error("missing 'name'", file, 1)
    check_fields(data, SERVICE, Located(file, lines, text.split("\n")), config.region_ids, problems)
    regions = check_regions(data.get("regions"), config, file, fields.line("regions"), problems)
    order = data.get("order", 100)
    if not isinstance(order, int):
        order = 100  # reported by check_fields
    service = Service(sid, file, data, regions, order)
    service.prices = _read_prices(fields, regions, config, problems)
    service.page = _service_page(fields, sid, source, text, regions, config, problems)
    return service


@dataclass(frozen=True)
class _Fields:
    """A service file's mapping with the line of every key path."""

    file: str
    data: dict[str, Any]
    lines: dict[tuple[str, ...], int]

    def line(self, *key: str) -> int:
        return self.lines.get(tuple(key), 1)


def _read_prices(
    fields: _Fields, regions: list[str], config: SiteConfig, problems: Problems
) -> dict[str, Price | None]:
    """The service's price in each region it is offered in; a price for another region is a warning."""
    raw = fields.data.get("price")
    line = fields.line("price")
    if isinstance(raw, dict) and is_region_map(raw, config.region_ids):
        unused = [k for k in raw if k != "default" and k not in regions]
        if unused:
            problems.warn(
                f"price for {', '.join(unused)} is never shown: the service is offered only in {', '.join(regions)}",
                fields.file,
                line,
            )
    return {rid: _read_price(raw, rid, config, fields.file, line, problems) for rid in regions}


def _service_page(
    fields: _Fields,
    sid: str,
    source: PurePosixPath,
    text: str,
    regions: list[str],
    config: SiteConfig,
    problems: Problems,
) -> Page:
    """The service's own page (``/services/<id>/``), its body parsed now unless it differs per region."""
    data = fields.data
    body = data.get("body") or ""
    if not isinstance(body, str) and not is_region_map(body, config.region_ids):
        body = ""  # reported by check_fields
    meta = {
        "title": data.get("name", sid),
        "description": data.get("summary", ""),
        "updated": data.get("updated"),
    }
    page = Page(
        file=fields.file,
        source=source.as_posix(),
        path=f"/services/{sid}/",
        meta=meta,
        body=body if isinstance(body, str) else "",
        body_line=_body_start(text, fields.line("body")),
        template=str(data.get("template") or "service"),
        regions=regions,
        kind="service",
        template_line=fields.line("template"),
        service_id=sid,
    )
    if isinstance(body, str):
        page.body = mark_heading_ids(body)
        marked, page.expressions = protect_expressions(page.body)
        page.parsed = convert(marked, config.region_ids)
        check_parsed(page, page.parsed, problems)
    else:
        # Region-specific bodies: rendered per region by the render stage.
        page.dynamic, page.parsed = True, None
        page.meta["body_by_region"] = body
    return page


def _body_start(text: str, key_line: int) -> int:
    """Line of the body's first text: the key's own line for `body: text`, the next for `body: |`."""
    lines = text.splitlines()
    if 0 < key_line <= len(lines):
        after = lines[key_line - 1].split(":", 1)[-1].strip()
        if after and not after.startswith(("|", ">")):
            return key_line
    return key_line + 1


def read_catalog(config: SiteConfig, content_dir: Path, problems: Problems) -> list[Service]:
    folder = content_dir / "services"
    services: list[Service] = []
    if not folder.is_dir():
        return services
    seen: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        service = read_service(config, path, content_dir, problems)
        if service is None:
            continue
        if service.id in seen:
            problems.error(f"service id '{service.id}' is also used by {seen[service.id]}", service.file, 1)
            continue
        seen[service.id] = service.file
        services.append(service)
    services.sort(key=lambda s: (s.order, s.id))
    return services
