"""The schema of ``site.yaml``: one dataclass per section, a docstring per key.

The attribute names of these classes are the YAML keys; each default is
declared here once, and docs/configuration.md is generated from the ``doc``
strings (``reference.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.config.checks import (
    CURRENCY,
    HREFLANG,
    LOCALE,
    REGION_ID,
    choice,
    doc,
    env_name,
    optional,
    pattern,
    percent,
    positive,
    positive_each,
    url,
)


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
        check=pattern(CURRENCY, "a 3-letter ISO code"),
    )
    hreflang: str = doc(
        "BCP 47 language tag for hreflang alternates, e.g. 'en-PK'.",
        check=pattern(HREFLANG, "a language tag like 'en' or 'en-PK'"),
    )
    locale: str = doc(
        "Locale used to format numbers and prices, e.g. 'en_PK'.",
        check=pattern(LOCALE, "a locale like 'en_PK'"),
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
        check=choice("none", "vercel", "netlify"),
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
        check=optional(url),
    )
    allowed_origins: list[str] = doc(
        "Extra origins allowed to post to the handlers (the site's own are always allowed).", factory=list
    )
    proxy_signature_env: str = doc(
        "Environment variable holding the secret that signs the Netlify /api/* proxy rule (X-Nf-Sign); "
        "the edge believes the proxy's client address only on requests it signed. Empty: unsigned rule, "
        "and the edge counts limits by socket address.",
        "",
        check=optional(env_name),
    )


@dataclass
class Retention:
    """How long personal data is kept; the database schedules and the privacy policy read these."""

    inquiries_months: int = doc("Months a contact-form inquiry is kept.", 12, check=positive)
    portal_months_after_close: int = doc(
        "Months client-portal data is kept after its project is closed.", 24, check=positive
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
    rights_response_days: int = doc(
        "Days within which a privacy request sent to us is carried out (the privacy policy states it).",
        30,
        check=positive,
    )
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
        check=env_name,
    )


@dataclass
class ContactForm:
    """The contact form handler (/api/contact)."""

    max_body_bytes: int = doc("Largest request body accepted.", 16384, check=positive)
    rate_limit_per_minute: int = doc("Submissions allowed per visitor per minute.", 5, check=positive)
    notify_webhook_env: str = doc(
        "Environment variable with a webhook URL notified of new inquiries (unset or empty: no webhook).",
        "CONTACT_WEBHOOK_URL",
        check=optional(env_name),
    )
    turnstile: Turnstile = doc("Cloudflare Turnstile settings.", factory=Turnstile)


@dataclass
class Provider:
    """An AI provider for the chatbot, tried in list order."""

    id: str = doc("Short id, e.g. 'groq'.", check=pattern(REGION_ID, "a lowercase id"))
    name: str = doc("Name shown in the privacy policy.")
    api: str = doc(
        "Wire format: 'openai' (chat completions) or 'gemini' (streamGenerateContent).",
        check=choice("openai", "gemini"),
    )
    base_url: str = doc("API base URL.", check=url)
    model: str = doc("Model name.")
    api_key_env: str = doc(
        "Environment variable holding the API key (keys never go in site.yaml).",
        check=env_name,
    )
    timeout: float = doc("Seconds to wait for the first token before failing over.", 10.0, check=positive)
    max_tokens: int = doc("Largest answer, in tokens.", 512, check=positive)
    privacy_url: str = doc("Link to the provider's privacy policy.", "")


@dataclass
class ChatLimits:
    """Caps on what a visitor may send to the chatbot."""

    max_messages: int = doc("Messages per request.", 20, check=positive)
    max_message_chars: int = doc("Characters per message.", 2000, check=positive)
    max_total_chars: int = doc("Characters per request.", 12000, check=positive)
    rate_per_minute: int = doc("Requests per visitor per minute.", 12, check=positive)
    max_concurrent: int = doc("Conversations streamed at once.", 16, check=positive)
    daily_requests: int = doc(
        "Provider requests per day for the whole site; past it chat answers offline and says so.",
        2000,
        check=positive,
    )
    daily_tokens: int = doc(
        "Provider tokens per day for the whole site (estimated as characters / 4, question and answer).",
        1000000,
        check=positive,
    )


@dataclass
class Chat:
    """The ExpertBot chat proxy (/api/chat)."""

    enabled: bool = doc("Show the chat widget.", True)
    bot_name: str = doc("Name of the bot.", "Assistant")
    providers: list[Provider] = doc(
        "AI providers in failover order; none means the offline answerer only.", factory=list
    )
    limits: ChatLimits = doc("Request limits.", factory=ChatLimits)
    vocabulary: dict[str, list[str]] = doc(
        "Visitors' words for the site's own, read by the chat's search and quick answers. Each key is "
        "a word the site uses (a service name such as 'branding', or 'price', 'contact', 'hours'); its "
        "list holds the words and phrases visitors type for it instead: synonyms ('logo', 'visiting "
        "card'), brand names ('shopify'), Roman Urdu ('kitne paise', 'dukaan'). A question containing "
        "one of them is searched as if it also said the key. Matching ignores case.",
        factory=dict,
    )


DEFAULT_UPLOAD_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "text/plain",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)


@dataclass
class Portal:
    """The client portal (/api/portal)."""

    supabase_url: str = doc(
        "The Supabase project (https://<ref>.supabase.co) the portal page signs in with and uploads to, "
        "the same value as the edge's SUPABASE_URL; the CSP's connect-src lists its origin. Empty: the "
        "portal only works with the edge's local development store.",
        "",
        check=optional(url),
    )
    bucket: str = doc("Supabase Storage bucket for project files.", "portal-files")
    upload_max_bytes: int = doc("Largest file a client may upload.", 26214400, check=positive)
    upload_types: list[str] = doc(
        "MIME types clients may upload (default: PDF, PNG, JPEG, WebP, plain text, ZIP and Word/Excel/PowerPoint).",
        factory=lambda: list(DEFAULT_UPLOAD_TYPES),
    )
    signed_url_seconds: int = doc("Lifetime of signed upload/download URLs.", 600, check=positive)


@dataclass
class Images:
    """Images beside content and in static folders: the sizes the build makes of each."""

    widths: list[int] = doc(
        "Widths in pixels of the responsive variants made of every image, each as WebP and in the "
        "image's own format; an image is never made wider than it is.",
        factory=lambda: [480, 800, 1200, 1600],
        check=positive_each,
    )
    quality: int = doc("JPEG and WebP quality of the variants, 1 to 100.", 80, check=percent)
    sizes: str = doc(
        "The sizes attribute of images in page content: how wide the theme shows them (the browser "
        "picks the variant from it). The default fits the default theme's text column.",
        "(min-width: 50rem) 46rem, calc(100vw - 2rem)",
    )
    default: str = doc(
        "Open Graph image of pages without an 'image' of their own: a path under content/, e.g. "
        "work/site/home.jpg. Empty: none.",
        "",
    )


@dataclass
class SiteConfig:
    """site.yaml: everything about the site that is not content."""

    title: str = doc("Site name, used in titles and the header.")
    base_url: str = doc("Absolute URL of the production site, without a trailing slash.", check=url)
    regions: dict[str, Region] = doc("Regional variants by id (lowercase). One site is built per region.")
    tagline: str = doc("Short line shown under the site name.", "")
    description: str = doc("Default meta description.", "")
    language: str = doc("Language of the content (html lang).", "en")
    theme: str = doc("Theme folder under themes/ (the site's own or sitegen's built-in).", "default")
    contact: Contact = doc("Contact details.", factory=Contact)
    hosting: str = doc(
        "Where the site is hosted: vercel, netlify or other. Decides the deploy (Vercel: static files "
        "and the /api function in one deploy; Netlify: static files, /api proxied to edge.origin), the "
        "analytics allowed, the hosting processor named in the privacy policy and the publish target.",
        "netlify",
        check=choice("vercel", "netlify", "other"),
    )
    analytics: Analytics = doc("Analytics settings.", factory=Analytics)
    search_console: SearchConsole = doc("Search Console settings.", factory=SearchConsole)
    edge: Edge = doc("Edge handler settings.", factory=Edge)
    privacy: Privacy = doc("Facts rendered into the legal pages.", factory=Privacy)
    contact_form: ContactForm = doc("Contact form handler settings.", factory=ContactForm)
    chat: Chat = doc("Chatbot settings.", factory=Chat)
    portal: Portal = doc("Client portal settings.", factory=Portal)
    images: Images = doc("Responsive image settings.", factory=Images)
    extra: dict[str, Any] = doc("Free-form values for templates and content (site.extra.*).", factory=dict)

    # Filled by load_config, not read from YAML.
    root: Path = field(default=Path("."), metadata={"doc": "", "internal": True})
    file: Path = field(default=Path("site.yaml"), metadata={"doc": "", "internal": True})
    # The line of every key path ("images.default" -> 12), for problems found after loading.
    lines: dict[str, int] = field(
        default_factory=dict, compare=False, repr=False, metadata={"doc": "", "internal": True}
    )

    def line_of(self, key: str) -> int | None:
        """The line of ``key`` (dotted) in site.yaml, or of its nearest written parent."""
        parts = key.split(".")
        while parts:
            line = self.lines.get(".".join(parts))
            if line is not None:
                return line
            parts.pop()
        return None

    @property
    def default_region(self) -> Region:
        for region in self.regions.values():
            if region.default:
                return region
        return next(iter(self.regions.values()))

    @property
    def region_ids(self) -> list[str]:
        return list(self.regions)
