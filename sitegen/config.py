"""The site configuration (`site.yaml`): one schema, a docstring per key.

Validation collects every problem and names the file, line and key path of
each (``site.yaml:18: regions.pk.currency: expected a 3-letter ISO code, got
'rupees'``). Unknown keys are warnings with a "did you mean"; ``--strict``
makes them fatal. The attribute names of these classes are the YAML keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from sitegen.errors import Problems, SitegenError

Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REGION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
HREFLANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})*$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def doc(text: str, default: Any = dataclasses.MISSING, check: Any = None, factory: Any = None) -> Any:
    """A dataclass field carrying its documentation (and an optional check)."""
    meta = {"doc": text, "check": check}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    if default is dataclasses.MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def _pattern(regex: re.Pattern[str], what: str) -> Any:
    def check(value: Any) -> str | None:
        if isinstance(value, str) and regex.match(value):
            return None
        return f"expected {what}, got {value!r}"

    return check


def _positive(value: Any) -> str | None:
    return None if value > 0 else f"expected a positive number, got {value!r}"


def _url(value: Any) -> str | None:
    if isinstance(value, str) and re.match(r"^https?://[^\s/]+", value):
        return None
    return f"expected an absolute http(s) URL, got {value!r}"


@dataclass
class Contact:
    """The agency's contact details, shown in footers and rendered into the legal pages."""

    company: str = doc("Legal or trading name, e.g. '7Experts'.", "")
    email: str = doc("Public e-mail address for inquiries.", "")
    phone: str = doc("Main phone number in international format.", "")
    address: str = doc("Postal address, one line.", "")


@dataclass
class Region:
    """One regional variant of the site, built into ``dist/<id>/``."""

    label: str = doc("Name shown in the region switcher, e.g. 'Pakistan'.")
    currency: str = doc(
        "ISO 4217 code of the prices shown in this region, e.g. 'PKR'.",
        check=_pattern(CURRENCY, "a 3-letter ISO code"),
    )
    hreflang: str = doc(
        "BCP 47 language tag for hreflang alternates, e.g. 'en-PK'.",
        check=_pattern(HREFLANG, "a language tag like 'en' or 'en-PK'"),
    )
    locale: str = doc(
        "Locale used to format numbers and prices, e.g. 'en_PK'.",
        check=_pattern(LOCALE, "a locale like 'en_PK'"),
    )
    countries: list[str] = doc(
        "ISO 3166 alpha-2 codes of visitors routed here. The default region also gets every unlisted country.",
        factory=list,
    )
    default: bool = doc(
        "Exactly one region is the default: the x-default alternate and the fallback for routing.", False
    )
    params: dict[str, Any] = doc(
        "Free per-region values (phone, address, hours…), available as region.params.", factory=dict
    )
    id: str = field(default="", metadata={"doc": "", "internal": True})

    @property
    def override_country(self) -> str:
        """Country code the region switcher stores in the override cookie."""
        return self.countries[0] if self.countries else "ZZ"


@dataclass
class Analytics:
    """Cookieless analytics; the CSP and the processors list follow this setting."""

    provider: str = doc(
        "One of: none, vercel, netlify.",
        "none",
        check=lambda v: (
            None
            if v in {"none", "vercel", "netlify"}
            else f"expected one of none, vercel, netlify, got {v!r}"
        ),
    )
    speed_insights: bool = doc("Also load Vercel Speed Insights (only with provider: vercel).", False)


@dataclass
class SearchConsole:
    """Google Search Console."""

    verification: str = doc("Value of the google-site-verification meta tag; empty for none.", "")


@dataclass
class Edge:
    """Where the edge handlers (contact, chat, portal) run."""

    origin: str = doc(
        "Origin the host proxies /api/* to, e.g. https://edge.example.com.",
        "",
        check=lambda v: None if not v else _url(v),
    )
    allowed_origins: list[str] = doc(
        "Extra origins allowed to post to the handlers (the site's own are always allowed).", factory=list
    )


@dataclass
class Retention:
    """How long personal data is kept; the database schedules and the privacy policy read these."""

    inquiries_months: int = doc("Months a contact-form inquiry is kept.", 12, check=_positive)
    portal_months_after_close: int = doc(
        "Months client-portal data is kept after its project is closed.", 24, check=_positive
    )


@dataclass
class Processor:
    """A third party that processes visitors' data (listed in the privacy policy)."""

    name: str = doc("Company or service name.")
    purpose: str = doc("What it does with the data, in one sentence.")
    role: str = doc("Short role: hosting, database, analytics, search, ai…", "")
    url: str = doc("Link to its privacy policy.", "")


@dataclass
class Cookie:
    """A cookie the site may set (the cookie table of the cookie policy)."""

    name: str = doc("Cookie name.")
    purpose: str = doc("Why it is set.")
    duration: str = doc("How long it lives, e.g. '1 year' or 'session'.")
    essential: bool = doc("Strictly necessary (no consent needed) or not.", False)


@dataclass
class Privacy:
    """Facts the privacy and cookie policies render, so they cannot drift from the system."""

    last_updated: dt.date | None = doc("Date shown as 'Last updated' on the legal pages.", None)
    retention: Retention = doc("Retention periods.", factory=Retention)
    processors: list[Processor] = doc(
        "Third-party processors besides the AI providers of chat.", factory=list
    )
    cookies: list[Cookie] = doc("Every cookie the site can set.", factory=list)


@dataclass
class Turnstile:
    """Optional Cloudflare Turnstile check on the contact form."""

    site_key: str = doc("Public site key; empty disables the widget.", "")
    secret_env: str = doc(
        "Environment variable holding the secret key.",
        "TURNSTILE_SECRET_KEY",
        check=_pattern(ENV_NAME, "an environment variable name"),
    )


@dataclass
class ContactForm:
    """The contact form handler (/api/contact)."""

    max_body_bytes: int = doc("Largest request body accepted.", 16384, check=_positive)
    rate_limit_per_minute: int = doc("Submissions allowed per visitor per minute.", 5, check=_positive)
    notify_webhook_env: str = doc(
        "Environment variable with a webhook URL notified of new inquiries.",
        "",
        check=lambda v: None if not v else _pattern(ENV_NAME, "an environment variable name")(v),
    )
    turnstile: Turnstile = doc("Cloudflare Turnstile settings.", factory=Turnstile)


@dataclass
class Provider:
    """An AI provider for the chatbot, tried in list order."""

    id: str = doc("Short id, e.g. 'groq'.", check=_pattern(REGION_ID, "a lowercase id"))
    name: str = doc("Name shown in the privacy policy.")
    api: str = doc(
        "Wire format: 'openai' (chat completions) or 'gemini' (streamGenerateContent).",
        check=lambda v: None if v in {"openai", "gemini"} else f"expected 'openai' or 'gemini', got {v!r}",
    )
    base_url: str = doc("API base URL.", check=_url)
    model: str = doc("Model name.")
    api_key_env: str = doc(
        "Environment variable holding the API key (keys never go in site.yaml).",
        check=_pattern(ENV_NAME, "an environment variable name"),
    )
    timeout: float = doc("Seconds to wait for the first token before failing over.", 10.0, check=_positive)
    max_tokens: int = doc("Largest answer, in tokens.", 512, check=_positive)
    privacy_url: str = doc("Link to the provider's privacy policy.", "")


@dataclass
class ChatLimits:
    """Caps on what a visitor may send to the chatbot."""

    max_messages: int = doc("Messages per request.", 20, check=_positive)
    max_message_chars: int = doc("Characters per message.", 2000, check=_positive)
    max_total_chars: int = doc("Characters per request.", 12000, check=_positive)
    rate_per_minute: int = doc("Requests per visitor per minute.", 12, check=_positive)
    max_concurrent: int = doc("Conversations streamed at once.", 16, check=_positive)


@dataclass
class Chat:
    """The ExpertBot chat proxy (/api/chat)."""

    enabled: bool = doc("Show the chat widget.", True)
    bot_name: str = doc("Name of the bot.", "Assistant")
    providers: list[Provider] = doc(
        "AI providers in failover order; none means the offline answerer only.", factory=list
    )
    limits: ChatLimits = doc("Request limits.", factory=ChatLimits)


@dataclass
class Portal:
    """The client portal (/api/portal)."""

    bucket: str = doc("Supabase Storage bucket for project files.", "portal-files")
    upload_max_bytes: int = doc("Largest file a client may upload.", 26214400, check=_positive)
    upload_types: list[str] = doc("MIME types clients may upload.", factory=list)
    signed_url_seconds: int = doc("Lifetime of signed upload/download URLs.", 600, check=_positive)


@dataclass
class SiteConfig:
    """site.yaml: everything about the site that is not content."""

    title: str = doc("Site name, used in titles and the header.")
    base_url: str = doc("Absolute URL of the production site, without a trailing slash.", check=_url)
    regions: dict[str, Region] = doc("Regional variants by id (lowercase). One site is built per region.")
    tagline: str = doc("Short line shown under the site name.", "")
    description: str = doc("Default meta description.", "")
    language: str = doc("Language of the content (html lang).", "en")
    theme: str = doc("Theme folder under themes/ (the site's own or sitegen's built-in).", "default")
    contact: Contact = doc("Contact details.", factory=Contact)
    hosting: str = doc(
        "Where the site is hosted: vercel, netlify or other.",
        "netlify",
        check=lambda v: (
            None if v in {"vercel", "netlify", "other"} else f"expected vercel, netlify or other, got {v!r}"
        ),
    )
    analytics: Analytics = doc("Analytics settings.", factory=Analytics)
    search_console: SearchConsole = doc("Search Console settings.", factory=SearchConsole)
    edge: Edge = doc("Edge handler settings.", factory=Edge)
    privacy: Privacy = doc("Facts rendered into the legal pages.", factory=Privacy)
    contact_form: ContactForm = doc("Contact form handler settings.", factory=ContactForm)
    chat: Chat = doc("Chatbot settings.", factory=Chat)
    portal: Portal = doc("Client portal settings.", factory=Portal)
    extra: dict[str, Any] = doc("Free-form values for templates and content (site.extra.*).", factory=dict)

    # Filled by load_config, not read from YAML.
    root: Path = field(default=Path("."), metadata={"doc": "", "internal": True})
    file: Path = field(default=Path("site.yaml"), metadata={"doc": "", "internal": True})

    @property
    def default_region(self) -> Region:
        for region in self.regions.values():
            if region.default:
                return region
        return next(iter(self.regions.values()))

    @property
    def region_ids(self) -> list[str]:
        return list(self.regions)


# --------------------------------------------------------------------------- YAML with lines


def key_lines(node: yaml.Node, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """Map every key path of a composed YAML document to its 1-based line."""
    lines: dict[tuple[str, ...], int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            lines.update(key_lines(value, sub))
            lines[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(key_lines(item, (*path, str(i))))
    return lines


def load_yaml(text: str, file: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    """Parse YAML, returning the data and the line of every key path."""
    try:
        node = yaml.compose(text, Loader=Loader)
        data = yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SitegenError(
            f"malformed YAML: {problem}; check indentation, colons and quotes", file, line
        ) from None
    except yaml.YAMLError as exc:
        raise SitegenError(f"malformed YAML: {exc}", file) from None
    return data, (key_lines(node) if node is not None else {})


# --------------------------------------------------------------------------- validation


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (list,):
        return "a list"
    if origin in (dict,):
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    return {
        str: "text",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        dt.date: "a date (YYYY-MM-DD)",
    }.get(tp, str(tp))


class _Validator:
    def __init__(self, file: str, lines: dict[tuple[str, ...], int], problems: Problems) -> None:
        self.file = file
        self.lines = lines
        self.problems = problems

    def line(self, path: tuple[str, ...]) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def error(self, path: tuple[str, ...], message: str) -> None:
        self.problems.error(message, self.file, self.line(path), ".".join(path) or None)

    def convert(self, tp: Any, value: Any, path: tuple[str, ...]) -> Any:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if value is None:
                return None
            return self.convert(args[0], value, path)
        if dataclasses.is_dataclass(tp):
            return self.dataclass(tp, value, path)
        if origin is list:
            (item_tp,) = typing.get_args(tp)
            if value is None:
                return []
            if not isinstance(value, list):
                self.error(path, f"expected a list, got {value!r}")
                return []
            return [self.convert(item_tp, v, (*path, str(i))) for i, v in enumerate(value)]
        if origin is dict:
            _, item_tp = typing.get_args(tp)
            if value is None:
                return {}
            if not isinstance(value, dict):
                self.error(path, f"expected a mapping, got {value!r}")
                return {}
            if item_tp is Any:
                return value
            return {str(k): self.convert(item_tp, v, (*path, str(k))) for k, v in value.items()}
        if tp is Any:
            return value
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if tp is dt.date and isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
            return value
        self.error(path, f"expected {_type_name(tp)}, got {value!r}")
        return None

    def dataclass(self, cls: Any, value: Any, path: tuple[str, ...]) -> Any:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {value!r}")
            value = {}
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
        kwargs: dict[str, Any] = {}
        for key in value:
            if str(key) not in fields:
                hint = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
                sub = (*path, str(key))
                suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; known keys: {', '.join(fields)}"
                self.problems.warn(f"unknown key{suggestion}", self.file, self.line(sub), ".".join(sub))
        for name, f in fields.items():
            sub = (*path, name)
            if name not in value:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    self.error(path + (name,), "required key is missing")
                continue
            converted = self.convert(hints[name], value[name], sub)
            if converted is None and value[name] is not None:
                continue  # already reported
            check = f.metadata.get("check")
            if check is not None and converted is not None:
                message = check(converted)
                if message:
                    self.error(sub, message)
                    continue
            kwargs[name] = converted
        try:
            return cls(**kwargs)
        except TypeError:
            # A required key was missing or invalid (already reported): build a placeholder.
            placeholder = {
                name: kwargs.get(name, _zero(hints[name]))
                for name, f in fields.items()
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            }
            return cls(**{**placeholder, **kwargs})


def _zero(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is list:
        return []
    if origin is dict:
        return {}
    if dataclasses.is_dataclass(tp):
        return None
    return {str: "", int: 0, float: 0.0, bool: False}.get(tp)


def validate(data: Any, file: str, lines: dict[tuple[str, ...], int], problems: Problems) -> SiteConfig:
    """Turn parsed YAML into a SiteConfig, recording every problem."""
    v = _Validator(file, lines, problems)
    if data is None:
        data = {}
    config: SiteConfig = v.dataclass(SiteConfig, data, ())
    regions = config.regions or {}
    if "regions" in (data if isinstance(data, dict) else {}) and not regions:
        v.error(("regions",), "define at least one region")
    defaults = [rid for rid, r in regions.items() if r is not None and r.default]
    for rid, region in regions.items():
        if not REGION_ID.match(rid):
            v.error(("regions", rid), f"region ids are lowercase letters, digits, '-' or '_', got {rid!r}")
        if region is not None:
            region.id = rid
            for i, code in enumerate(region.countries):
                if not isinstance(code, str) or not COUNTRY.match(code):
                    v.error(
                        ("regions", rid, "countries", str(i)),
                        f"expected an ISO 3166 alpha-2 code like 'PK', got {code!r}",
                    )
    if regions and len(defaults) != 1:
        if not defaults:
            v.error(("regions",), "mark exactly one region with 'default: true' (none is)")
        else:
            v.error(
                ("regions", defaults[1], "default"),
                f"exactly one region may be the default, found {', '.join(defaults)}",
            )
    seen: dict[str, str] = {}
    for rid, region in regions.items():
        for code in region.countries if region else []:
            if code in seen:
                v.error(
                    ("regions", rid, "countries"),
                    f"country {code} is already routed to region '{seen[code]}'",
                )
            seen[code] = rid
    ids = [p.id for p in config.chat.providers if p is not None]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        v.error(("chat", "providers"), f"provider id '{dup}' is used twice")
    if isinstance(config.base_url, str):
        config.base_url = config.base_url.rstrip("/")
    return config


def load_config(path: str | Path, problems: Problems | None = None) -> SiteConfig:
    """Read and validate site.yaml; raises BuildFailed listing every problem."""
    path = Path(path)
    own = problems is None
    problems = problems or Problems()
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SitegenError(
            "no site.yaml here: run sitegen in a site folder, or create one with `sitegen new DIR`", name
        ) from None
    try:
        data, lines = load_yaml(text, name)
    except SitegenError as exc:
        problems.add(exc)
        problems.check()
        raise
    if data is not None and not isinstance(data, dict):
        problems.error("expected a mapping of keys at the top level", name, 1)
        problems.check()
    config = validate(data, name, lines, problems)
    config.root = path.parent.resolve()
    config.file = path
    if own:
        problems.check()
    return config


# --------------------------------------------------------------------------- documentation


def schema_markdown() -> str:
    """docs/configuration.md, generated from the docstrings above."""
    out = [
        "# Configuration reference (`site.yaml`)",
        "",
        "Generated from `sitegen/config.py` by `sitegen config-docs`; do not edit by hand.",
        "",
    ]

    def walk(cls: Any, prefix: str, depth: int) -> None:
        hints = get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("internal"):
                continue
            tp = hints[f.name]
            key = f"{prefix}{f.name}"
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            default = (
                ""
                if required or f.default_factory is not dataclasses.MISSING
                else f" (default: `{f.default!r}`)"
            )
            req = " **required**" if required else ""
            out.append(
                f"{'  ' * depth}- `{key}` — {_type_name(tp)}{req}{default}. {f.metadata.get('doc', '')}"
            )
            inner = tp
            origin = typing.get_origin(tp)
            if origin in (list, dict):
                inner = typing.get_args(tp)[-1]
            if dataclasses.is_dataclass(inner):
                sub = f"{key}.<id>." if origin is dict else f"{key}[]." if origin is list else f"{key}."
                out.append(f"{'  ' * (depth + 1)}- {(inner.__doc__ or '').strip()}")
                walk(inner, sub, depth + 1)

    walk(SiteConfig, "", 0)
    return "\n".join(out) + "\n"
