"""The site configuration (``site.yaml``): one schema, a docstring per key.

- ``schema``: the dataclasses, each default declared once;
- ``checks``: ``doc()`` field declarations and value checks;
- ``validate``: parsed YAML to a ``SiteConfig`` with every problem named, and ``load_config``;
- ``reference``: docs/configuration.md generated from the schema;
- ``origin``: building for another origin than ``base_url`` (previews, serve).

Callers import from ``sitegen.config``; the submodules are the seams.
"""

from sitegen.config.checks import COUNTRY, CURRENCY, ENV_NAME, HREFLANG, LOCALE, REGION_ID, doc
from sitegen.config.origin import at_origin, parse_origin
from sitegen.config.reference import schema_markdown
from sitegen.config.schema import (
    Analytics,
    Chat,
    ChatLimits,
    Contact,
    ContactForm,
    Cookie,
    Edge,
    Images,
    Portal,
    Privacy,
    Processor,
    Provider,
    Region,
    Retention,
    SearchConsole,
    SiteConfig,
    Turnstile,
)
from sitegen.config.validate import load_config, validate
from sitegen.yamlio import Loader, key_lines, load_yaml

__all__ = [
    "COUNTRY",
    "CURRENCY",
    "ENV_NAME",
    "HREFLANG",
    "LOCALE",
    "REGION_ID",
    "Analytics",
    "Chat",
    "ChatLimits",
    "Contact",
    "ContactForm",
    "Cookie",
    "Edge",
    "Loader",
    "Images",
    "Portal",
    "Privacy",
    "Processor",
    "Provider",
    "Region",
    "Retention",
    "SearchConsole",
    "SiteConfig",
    "Turnstile",
    "doc",
    "key_lines",
    "load_config",
    "load_yaml",
    "at_origin",
    "parse_origin",
    "schema_markdown",
    "validate",
]
