"""The pictures of the "This website" case study (content/work/website/): this site, photographed.

Builds the production site into a temporary folder, serves it the way the host does
(``tests/support/static_site.py``: the generated rule files applied) and takes screenshots with
Debian's Chromium:

- ``home.jpg``: the Pakistan home page on a 1280 x 800 desktop screen (at 1.5x, so it stays
  sharp on high-density screens);
- ``regions.jpg``: the home page on a phone in each region side by side (prices in rupees for
  Pakistan, in dollars elsewhere), put together with Pillow;
- ``services.jpg``: the Pakistan services page with its prices on a desktop screen.

They are committed as JPEG (the build makes the WebP and narrower variants). Run it again after
a visible change to those pages: .venv/bin/python tools/work_images.py [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.servers import serve  # noqa: E402
from tests.support.static_site import site_app  # noqa: E402

QUALITY = 82  # the committed originals; the build encodes its variants at images.quality
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 780}


def build(out: Path) -> Path:
    from sitegen.build import BuildOptions, build

    build(BuildOptions(root=ROOT, out=out, production=True, cache=False))
    return out


def shots(base: str) -> dict[str, bytes]:
    """PNG screenshots by name (viewport only: what a visitor sees first)."""
    from playwright.sync_api import sync_playwright

    taken: dict[str, bytes] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        plans = [
            ("home", "/pk/", DESKTOP, 1.5),
            ("services", "/pk/services/", DESKTOP, 1.5),
            ("phone-pk", "/pk/", PHONE, 2),
            ("phone-intl", "/intl/", PHONE, 2),
        ]
        for name, path, viewport, scale in plans:
            context = browser.new_context(
                viewport=viewport,  # type: ignore[arg-type]
                device_scale_factor=scale,
                color_scheme="light",
                is_mobile=viewport is PHONE,
            )
            page = context.new_page()
            page.goto(base + path, wait_until="networkidle")
            # The desktop home page down to the end of its first band, not the start of the next.
            bottom = page.evaluate("(document.querySelector('.hero') || {}).offsetHeight || 0")
            header = page.evaluate("document.querySelector('.site-header').offsetHeight")
            height = viewport["height"]
            if name == "home" and bottom:
                height = min(height, header + bottom)
            clip = {"x": 0, "y": 0, "width": viewport["width"], "height": height}
            taken[name] = page.screenshot(type="png", clip=clip)  # type: ignore[arg-type]
            context.close()
        browser.close()
    return taken


def side_by_side(left: bytes, right: bytes) -> bytes:
    """Two phone screenshots on a soft background, with rounded corners like a phone's screen."""
    from PIL import Image, ImageDraw

    phones = [Image.open(io.BytesIO(data)).convert("RGB") for data in (left, right)]
    w, h = phones[0].size
    gap, margin = 96, 72
    canvas = Image.new("RGB", (2 * w + gap + 2 * margin, h + 2 * margin), (232, 240, 246))
    for i, phone in enumerate(phones):
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), radius=56, fill=255)
        canvas.paste(phone, (margin + i * (w + gap), margin), mask)
    return jpeg(canvas)


def jpeg(image: object) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return buf.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    from PIL import Image

    parser = argparse.ArgumentParser(description="Screenshots of this site for its case study.")
    parser.add_argument("--out", type=Path, default=ROOT / "content" / "work" / "website")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sitegen-work-") as tmp:
        dist = build(Path(tmp) / "dist")
        with serve(site_app(dist)) as base:
            taken = shots(base.rstrip("/"))
    args.out.mkdir(parents=True, exist_ok=True)
    made = {
        "home.jpg": jpeg(Image.open(io.BytesIO(taken["home"]))),
        "services.jpg": jpeg(Image.open(io.BytesIO(taken["services"]))),
        "regions.jpg": side_by_side(taken["phone-pk"], taken["phone-intl"]),
    }
    for name, data in made.items():
        (args.out / name).write_bytes(data)
        print(f"{args.out / name}: {len(data) // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
