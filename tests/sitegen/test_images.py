"""Images beside content: published once, sized, in responsive variants and WebP, cached, checked."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from sitegen.build import BuildFailed
from tests.support.sitefactory import SITE_YAML, build_site, html, tree, write_site

CASE = """\
---
title: Acme shop
image: hero.jpg
image_alt: The Acme shop front
---

Intro text.

![The shelves inside]({shelf})

More text.

![A sketch of the logo](logo.png "The logo")
"""


def jpeg(
    size: tuple[int, int], colour: tuple[int, int, int] = (200, 60, 40), exif_rotate: bool = False
) -> bytes:
    image = Image.new("RGB", size, colour)
    image.paste((20, 90, 160), (0, 0, size[0] // 2, size[1] // 3))  # not flat: a real encode
    buf = io.BytesIO()
    if exif_rotate:
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
        image.save(buf, "JPEG", quality=90, exif=exif)
    else:
        image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 60, 200)).save(buf, "PNG")
    return buf.getvalue()


# Small widths keep the encoding cheap; the rule is the same at any size.
IMAGES_YAML = "images:\n  widths: [160, 320, 640]\n"


def make_site(root: Path, shelf: str = "shelf.jpg", page: str | None = None) -> Path:
    write_site(
        root,
        {
            "site.yaml": SITE_YAML + IMAGES_YAML,
            "content/index.md": "---\ntitle: Home\n---\n\nWelcome. See [Acme](work/acme/index.md).\n",
            "content/about.md": "---\ntitle: About\n---\n\nNo pictures here.\n",
            "content/work/acme/index.md": page or CASE.format(shelf=shelf),
        },
    )
    folder = root / "content" / "work" / "acme"
    (folder / "hero.jpg").write_bytes(jpeg((900, 500)))
    (folder / "shelf.jpg").write_bytes(jpeg((400, 600), (30, 160, 90), exif_rotate=True))
    (folder / "logo.png").write_bytes(png((120, 48)))
    return root


class _Images(HTMLParser):
    """Every <img> and <source> of a page, in order, as attribute dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict[str, str | None]] = []
        self.sources: list[dict[str, str | None]] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.imgs.append(values)
        elif tag == "source":
            self.sources.append(values)
        elif tag == "meta" and values.get("property"):
            self.meta[str(values["property"])] = str(values.get("content"))


def images_of(root: Path, rel: str) -> _Images:
    parser = _Images()
    parser.feed(html(root, rel))
    return parser


def srcset(value: str | None) -> list[tuple[str, int]]:
    assert value, "no srcset"
    return [(url, int(w.rstrip("w"))) for url, w in (part.split() for part in value.split(", "))]


def test_each_image_is_published_once_for_every_region_under_a_hashed_name(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    build_site(root)
    out = root / "dist"
    published = [
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.suffix in (".jpg", ".png", ".webp")
    ]
    assert published and all(p.startswith("assets/img/") for p in published), published
    # Nothing copied beside the pages of either region.
    assert not [p for p in published if p.startswith(("pk/", "intl/"))]
    pk, intl = images_of(root, "pk/work/acme/index.html"), images_of(root, "intl/work/acme/index.html")
    assert [i["src"] for i in pk.imgs] == [i["src"] for i in intl.imgs]
    for img in pk.imgs:
        assert re.fullmatch(r"/assets/img/[a-z0-9-]+\.\d+\.[0-9a-f]{8}\.(jpg|png)", str(img["src"])), img
    # A changed file gets new names (assets are served as immutable).
    before = {i["src"] for i in pk.imgs}
    (root / "content/work/acme/shelf.jpg").write_bytes(jpeg((400, 600), (250, 250, 0)))
    build_site(root)
    after = {i["src"] for i in images_of(root, "pk/work/acme/index.html").imgs}
    assert len(before - after) == 1 and len(after - before) == 1


def test_width_and_height_are_the_files_as_shown(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    build_site(root)
    by_alt = {i["alt"]: i for i in images_of(root, "pk/work/acme/index.html").imgs}
    shelf, logo = by_alt["The shelves inside"], by_alt["A sketch of the logo"]
    assert (shelf["width"], shelf["height"], logo["width"], logo["height"]) == ("600", "400", "120", "48")
    assert by_alt["A sketch of the logo"]["title"] == "The logo"
    # The EXIF orientation is applied: the 400 x 600 file is shown turned, 600 x 400.
    variants = srcset(by_alt["The shelves inside"]["srcset"])
    with Image.open(root / "dist" / variants[-1][0].lstrip("/")) as widest:
        assert widest.size == (600, 400)
        assert not widest.getexif()  # metadata (GPS positions included) is not published


def test_variants_have_the_widths_they_claim_and_webp_is_offered(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    build_site(root)
    page = images_of(root, "pk/work/acme/index.html")
    shelf = next(i for i in page.imgs if i["alt"] == "The shelves inside")
    assert [w for _, w in srcset(shelf["srcset"])] == [160, 320, 600]  # never wider than the file
    assert shelf["sizes"]
    webp = next(s for s in page.sources if "shelf" in str(s["srcset"]))
    assert webp["type"] == "image/webp" and webp["sizes"] == shelf["sizes"]
    for value, fmt in ((shelf["srcset"], "JPEG"), (webp["srcset"], "WEBP")):
        for url, width in srcset(value):
            with Image.open(root / "dist" / url.lstrip("/")) as variant:
                variant.load()
                assert (variant.format, variant.width) == (fmt, width)
                assert variant.height == round(400 * width / 600)
    logo = next(i for i in page.imgs if i["alt"] == "A sketch of the logo")
    # Narrower than every configured width: one variant per format, so no srcset to choose from.
    assert logo.get("srcset") is None and logo["src"].endswith(".png")  # type: ignore[union-attr]


def test_the_first_image_of_a_page_loads_at_once_and_the_others_lazily(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    build_site(root)
    first, *rest = images_of(root, "pk/work/acme/index.html").imgs
    assert "loading" not in first and first.get("fetchpriority") == "high"
    assert rest and all(i["loading"] == "lazy" and i["decoding"] == "async" for i in rest)


def test_a_second_build_encodes_nothing_and_a_changed_image_is_encoded_again(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    first = build_site(root)
    assert (first.images, first.images_encoded) == (3, 3)
    (root / "content/about.md").write_text("---\ntitle: About\n---\n\nChanged.\n", encoding="utf-8")
    again = build_site(root)
    assert (again.images, again.images_encoded) == (3, 0)
    (root / "content/work/acme/logo.png").write_bytes(png((130, 48)))
    changed = build_site(root)
    assert changed.images_encoded == 1
    assert 'width="130"' in html(root, "pk/work/acme/index.html")
    # Without the cache everything is encoded again, to the same bytes.
    before = tree(root / "dist")
    fresh = build_site(root, cache=False)
    assert fresh.images_encoded == 3 and tree(root / "dist") == before


def test_editing_an_image_renders_again_the_pages_that_show_it(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    build_site(root)
    (root / "content/work/acme/hero.jpg").write_bytes(jpeg((800, 500)))
    result = build_site(root)
    # The acme page in both regions shows it (its Open Graph image), the home page lists the work
    # pages (a listing may show their images); the about page shows no image and is kept.
    assert (result.rendered, result.reused) == (4, 2), result.summary()
    og = images_of(root, "intl/work/acme/index.html").meta["og:image"]
    with Image.open(root / "dist" / og.split("tiny.example/", 1)[1]) as shown:
        assert shown.size == (640, 400)


def test_open_graph_image_is_absolute_from_the_page_or_the_site_default(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    build_site(root)
    acme = images_of(root, "pk/work/acme/index.html").meta
    assert re.fullmatch(r"https://tiny\.example/assets/img/hero\.640\.[0-9a-f]{8}\.jpg", acme["og:image"])
    assert (acme["og:image:width"], acme["og:image:height"]) == ("640", "356")
    assert acme["og:image:alt"] == "The Acme shop front"
    assert "og:image" not in images_of(root, "pk/about/index.html").meta
    (root / "site.yaml").write_text(
        SITE_YAML + IMAGES_YAML + "  default: work/acme/logo.png\n", encoding="utf-8"
    )
    build_site(root)
    about = images_of(root, "pk/about/index.html").meta
    assert re.fullmatch(r"https://tiny\.example/assets/img/logo\.120\.[0-9a-f]{8}\.png", about["og:image"])


@pytest.mark.parametrize(
    ("shelf", "message"),
    [
        ("shelve.jpg", "image 'shelve.jpg' not found: there is no file content/work/acme/shelve.jpg"),
        ("broken.jpg", "image 'broken.jpg' (content/work/acme/broken.jpg) cannot be read"),
        ("../../../outside.jpg", "image '../../../outside.jpg' is outside the content folder"),
        ("notes.txt", "'notes.txt' is not an image (JPEG, PNG, WebP or GIF)"),
    ],
)
def test_an_image_that_cannot_be_shown_is_an_error_at_its_line_and_dist_is_untouched(
    tmp_path: Path, shelf: str, message: str
) -> None:
    root = make_site(tmp_path)
    build_site(root)
    before = tree(root / "dist")
    (root / "content/work/acme/broken.jpg").write_bytes(jpeg((400, 300))[:300])  # truncated
    (root / "content/work/acme/notes.txt").write_text("not a picture", encoding="utf-8")
    (root / "content/work/acme/index.md").write_text(CASE.format(shelf=shelf), encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    errors = [str(e) for e in failed.value.errors]
    assert any(e.startswith("content/work/acme/index.md:9: ") and message in e for e in errors), errors
    assert tree(root / "dist") == before


def fails_with(root: Path, start: str) -> None:
    """The build fails with an error that starts with ``start``."""
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert any(str(e).startswith(start) for e in failed.value.errors), [str(e) for e in failed.value.errors]


def test_a_missing_front_matter_image_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = make_site(tmp_path, page=CASE.format(shelf="shelf.jpg").replace("hero.jpg", "heroes.jpg"))
    fails_with(root, "content/work/acme/index.md:3: image 'heroes.jpg' not found")
    assert not (root / "dist").exists()


def test_missing_alt_text_is_a_warning_and_an_error_with_strict(tmp_path: Path) -> None:
    page = (
        CASE.format(shelf="shelf.jpg")
        .replace("![The shelves inside]", "![]")
        .replace("image_alt: The Acme shop front\n", "")
    )
    root = make_site(tmp_path, page=page)
    result = build_site(root)
    warnings = sorted(str(w) for w in result.warnings)
    assert warnings == [
        "content/work/acme/index.md:3: 'image: hero.jpg' has no 'image_alt': add one saying what the "
        "image shows, for people who cannot see it",
        "content/work/acme/index.md:8: image 'shelf.jpg' has no alt text: say what it shows in the "
        "brackets, ![what it shows](shelf.jpg), for people who cannot see it",
    ]
    with pytest.raises(BuildFailed) as failed:
        build_site(root, strict=True)
    assert sorted(str(e) for e in failed.value.errors) == [
        f"{w} (a warning, fatal with --strict)" for w in warnings
    ]


def test_templates_show_page_images_and_their_own_with_image(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    write_site(
        root,
        {
            "templates/page.html": """\
                <!doctype html><html lang="en"><head><title>{{ page.title }}</title></head><body><main>
                {{ image(page.image, sizes="50vw") }}
                {{ image("img/badge.png", alt="Award badge", lazy=true) }}
                {{ content | safe }}
                </main></body></html>
            """,
        },
        site_yaml=None,
    )
    (root / "static/img").mkdir(parents=True)
    (root / "static/img/badge.png").write_bytes(png((64, 64)))
    build_site(root)
    imgs = images_of(root, "pk/work/acme/index.html").imgs
    assert [i["alt"] for i in imgs] == [
        "The Acme shop front",
        "Award badge",
        "The shelves inside",
        "A sketch of the logo",
    ]
    assert imgs[0]["sizes"] == "50vw" and "loading" not in imgs[0]
    assert imgs[1]["loading"] == "lazy" and imgs[1]["width"] == "64"
    # A page without an image shows none; an unknown static image names the template line.
    assert images_of(root, "pk/about/index.html").imgs == [imgs[1]]
    (root / "templates/page.html").write_text('{{ image("img/nope.png") }}\n', encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert any(
        "templates/page.html:1" in str(e) and "image('img/nope.png'): no such image in static/" in str(e)
        for e in failed.value.errors
    ), [str(e) for e in failed.value.errors]


def test_files_beside_a_page_are_published_when_linked_and_only_then(tmp_path: Path) -> None:
    page = CASE.format(shelf="shelf.jpg") + (
        "\n[The brochure (PDF)](brochure.pdf) · [the shelves, full size](shelf.jpg)\n"
    )
    root = make_site(tmp_path, page=page)
    folder = root / "content/work/acme"
    (folder / "brochure.pdf").write_bytes(b"%PDF-1.4 a tiny brochure\n")
    (folder / "notes.txt").write_text("private notes, linked from nowhere", encoding="utf-8")
    build_site(root)
    links = re.findall(r'<a href="(/assets/[^"]+)"', html(root, "intl/work/acme/index.html"))
    assert len(links) == 2 and links == re.findall(
        r'<a href="(/assets/[^"]+)"', html(root, "pk/work/acme/index.html")
    )
    brochure, full_size = links
    assert re.fullmatch(r"/assets/files/brochure\.[0-9a-f]{8}\.pdf", brochure)
    assert (root / "dist" / brochure.lstrip("/")).read_bytes() == b"%PDF-1.4 a tiny brochure\n"
    with Image.open(root / "dist" / full_size.lstrip("/")) as widest:
        assert widest.size == (600, 400)  # the widest variant of the picture
    assert not [p for p in (root / "dist").rglob("*.txt") if "notes" in p.name]
    # A changed file is published under its new name by the page that links to it.
    (folder / "brochure.pdf").write_bytes(b"%PDF-1.4 the new brochure\n")
    build_site(root)
    new = re.findall(r'<a href="(/assets/files/[^"]+)"', html(root, "pk/work/acme/index.html"))
    assert new and new[0] != brochure and (root / "dist" / new[0].lstrip("/")).is_file()
    assert not (root / "dist" / brochure.lstrip("/")).exists()


def test_a_wrong_default_image_names_its_site_yaml_line_once(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    (root / "site.yaml").write_text(
        SITE_YAML + IMAGES_YAML + "  default: work/acme/nope.jpg\n", encoding="utf-8"
    )
    line = (root / "site.yaml").read_text(encoding="utf-8").splitlines().index(
        "  default: work/acme/nope.jpg"
    ) + 1
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert [str(e) for e in failed.value.errors] == [
        f"site.yaml:{line}: images.default: there is no image content/work/acme/nope.jpg; "
        "name a JPEG, PNG, WebP or GIF file under content/"
    ]


SECRET = """\
---
title: New client
draft: true
image: newclient.jpg
image_alt: The new client's shop
---

![Mockup](newclient.jpg)
"""


def published_images(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "dist/assets/img").iterdir())


@pytest.mark.parametrize("cache", [True, False])
def test_only_images_a_built_page_uses_are_published(tmp_path: Path, cache: bool) -> None:
    root = make_site(tmp_path)
    secret = root / "content/work/secret"
    secret.mkdir()
    (secret / "index.md").write_text(SECRET, encoding="utf-8")
    (secret / "newclient.jpg").write_bytes(jpeg((700, 400), (90, 90, 200)))
    (root / "content/work/acme/Hero Shot.JPG").write_bytes(jpeg((500, 300), (10, 200, 10)))
    build_site(root, cache=cache)
    names = published_images(root)
    assert {n.split(".")[0] for n in names} == {"hero", "shelf", "logo"}, names
    # With --drafts the draft is built, and its pictures with it.
    build_site(root, cache=cache, drafts=True)
    assert any(n.startswith("newclient.") for n in published_images(root))
    build_site(root, cache=cache)
    assert published_images(root) == names
    # A page turned into a draft takes its pictures out of the next build.
    page = (root / "content/work/acme/index.md").read_text(encoding="utf-8")
    (root / "content/work/acme/index.md").write_text(
        page.replace("---\n", "---\ndraft: true\n", 1), encoding="utf-8"
    )
    (root / "content/index.md").write_text("---\ntitle: Home\n---\n\nWelcome.\n", encoding="utf-8")
    build_site(root, cache=cache)
    assert not (root / "dist/assets/img").exists() or published_images(root) == []


def test_the_page_image_may_differ_per_region(tmp_path: Path) -> None:
    regional = "image:\n  pk: hero.jpg\n  default: logo.png\nimage_alt:\n  pk: The Karachi shop\n  default: Our logo\n"
    page = CASE.format(shelf="shelf.jpg").replace(
        "image: hero.jpg\nimage_alt: The Acme shop front\n", regional
    )
    root = make_site(tmp_path, page=page)
    build_site(root)
    pk, intl = (
        images_of(root, "pk/work/acme/index.html").meta,
        images_of(root, "intl/work/acme/index.html").meta,
    )
    assert re.fullmatch(r"https://tiny\.example/assets/img/hero\.640\.[0-9a-f]{8}\.jpg", pk["og:image"])
    assert re.fullmatch(r"https://tiny\.example/assets/img/logo\.120\.[0-9a-f]{8}\.png", intl["og:image"])
    assert (pk["og:image:alt"], intl["og:image:alt"]) == ("The Karachi shop", "Our logo")
    # A missing file in one region's value is an error at the image line.
    (root / "content/work/acme/index.md").write_text(
        page.replace("logo.png\nimage_alt", "nope.png\nimage_alt"), encoding="utf-8"
    )
    fails_with(root, "content/work/acme/index.md:3: image 'nope.png' not found")


def test_a_page_with_statements_shows_its_folders_pictures_but_not_a_drafts(tmp_path: Path) -> None:
    dynamic = "---\ntitle: Work\n---\n\n{% if true %}![The shelves inside](acme/shelf.jpg){% endif %}\n"
    root = make_site(tmp_path)
    write_site(root, {"content/work/index.md": dynamic}, site_yaml=None)
    secret = root / "content/work/secret"
    secret.mkdir()
    (secret / "index.md").write_text(SECRET, encoding="utf-8")
    (secret / "newclient.jpg").write_bytes(jpeg((700, 400), (90, 90, 200)))
    (root / "content/work/acme/notes.txt").write_text("private notes", encoding="utf-8")
    build_site(root)
    shown = images_of(root, "pk/work/index.html").imgs
    assert [i["alt"] for i in shown] == ["The shelves inside"]
    assert (root / "dist" / str(shown[0]["src"]).lstrip("/")).is_file()
    assert {n.split(".")[0] for n in published_images(root)} == {"hero", "shelf", "logo"}
    assert not list((root / "dist").rglob("notes*"))


@pytest.mark.parametrize(
    "key",
    [
        "content/a.md",
        "content/a.b.PNG",
        "content/.hidden",
        "content/x.",
        "content/d.e/f",
        "content/a..b",
        "c/..",
        "n",
    ],
)
def test_suffix_is_pathlibs(key: str) -> None:
    from pathlib import PurePosixPath

    from sitegen.images import _suffix

    assert _suffix(key) == PurePosixPath(key).suffix
