"""ExpertBot evaluation: accuracy of the chat's answers on bench/chat_questions.yaml.

    .venv/bin/python bench/chat_eval.py              # build the site, offline answerer, table
    .venv/bin/python bench/chat_eval.py --providers  # also: fake providers on loopback that echo
                                                     # the context they received
    .venv/bin/python bench/chat_eval.py --failures   # list every wrong answer
    .venv/bin/python bench/chat_eval.py --json out.json

The site (this repository's content/ and site.yaml) is built into a temporary
folder, and every question is asked in every region. What counts as right is
written in the question file's header; expected facts (prices, e-mail, hours,
retention periods) are read from the built ``site.json``, so a price change in
content/ does not make the set stale.

With ``--providers`` the real chat app runs on loopback in front of a fake
OpenAI-compatible provider that answers with the system message it received:
the run checks that the expected page and fact reached the model (grounding),
not what a model would make of them. tests/edge/test_chat_quality.py runs both
and fails when accuracy falls below the floor recorded there.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUESTIONS = HERE / "chat_questions.yaml"
# Any amount with a currency sign or code next to it: an answer to an out-of-scope question has none.
PRICE = re.compile(r"(?:Rs\.?|PKR|USD|\$)\s?\d|\d\s?(?:PKR|USD)\b")


@dataclass
class Expected:
    facts: list[str] = field(default_factory=list)  # each must appear in the answer
    urls: list[str] = field(default_factory=list)  # each must be one of its links
    no_price: bool = False


@dataclass
class Result:
    region: str
    q: str
    cat: str
    lang: str
    heldout: bool
    ok: bool
    grounded: bool | None = None  # with --providers: did the expected page and facts reach the model
    retrieved: bool | None = None  # ...and was the expected page among the chunks ranked for the question
    answer: str = ""
    links: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return questions


def expected(site: dict[str, Any], region: str, expect: dict[str, Any]) -> Expected:
    """What a right answer to a question with ``expect`` holds in ``region`` (see chat_questions.yaml)."""
    regions = site["regions"]
    info = regions[region]
    urls = info.get("urls", {})
    out = Expected(facts=[str(w) for w in expect.get("words", [])])
    if "service" in expect:
        sid = expect["service"]
        mine = [s for s in info["services"] if s["id"] == sid]
        if mine:
            out.facts.append(mine[0]["price_text"])
            out.urls.append(mine[0]["url"])
        else:
            rid, other = next((r, s) for r, o in regions.items() for s in o["services"] if s["id"] == sid)
            out.facts += ["not offered", regions[rid]["label"]]
            out.urls.append(other["url"])
    if expect.get("services") == "all":
        out.facts += [s["name"] for s in info["services"]] + [s["price_text"] for s in info["services"]]
    fact = expect.get("fact")
    contact = site.get("contact", {})
    params = info.get("params", {})
    if fact in {"email", "address"}:
        out.facts.append(contact[fact])
        out.urls.append(urls["contact"])
    elif fact == "phone":
        out.facts.append(params.get("phone") or contact["phone"])
    elif fact == "whatsapp":
        out.facts.append(
            params["whatsapp"] if params.get("whatsapp") else params.get("phone") or contact["phone"]
        )
    elif fact == "hours":
        out.facts.append(params["hours"])
    elif fact == "currency":
        out.facts.append(info["currency"])
    elif fact == "regions":
        out.facts += [r["label"] for r in regions.values()]
    elif fact == "quote":
        out.urls.append(urls["contact"])
    if "retention" in expect:
        out.facts.append(f"{site['retention'][expect['retention']]} months")
        out.urls.append(urls["privacy"])
    if "page" in expect:
        out.urls.append(urls["home"].rstrip("/") + expect["page"])
    if expect.get("out_of_scope"):
        out.no_price = True
        out.urls.append(urls["contact"])
    return out


def _link_matches(want: str, links: list[str]) -> bool:
    # A link to a section (#anchor) also answers "a link to that page"; a query string is ignored.
    base = [link.split("?")[0] for link in links]
    return want in base or ("#" not in want and want in {link.split("#")[0] for link in base})


def grade(exp: Expected, text: str, links: list[str]) -> list[str]:
    """What a right answer would have and this one lacks (empty: right)."""
    folded = text.casefold()
    missing = [f for f in exp.facts if f.casefold() not in folded]
    missing += [f"link {u}" for u in exp.urls if not _link_matches(u, links)]
    if exp.no_price and PRICE.search(text):
        missing.append("no price")
    return missing


def build_site(out: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from sitegen.build import BuildOptions, build

    build(BuildOptions(root=ROOT, out=out, cache=False))
    return out / "_edge"


def run_offline(edge_data: Path, questions: list[dict[str, Any]]) -> list[Result]:
    from edge.offline import OfflineAnswerer
    from edge.settings import load_settings

    settings = load_settings({}, data_dir=edge_data, local_dir=edge_data)
    answerer = OfflineAnswerer(settings)
    results = []
    for region in settings.regions:
        for item in questions:
            answer = answerer.answer(region, item["q"])
            links = [link.url for link in answer.links]
            missing = grade(expected(settings.site, region, item["expect"]), answer.text, links)
            results.append(
                Result(
                    region,
                    item["q"],
                    item["cat"],
                    item["lang"],
                    bool(item.get("heldout")),
                    not missing,
                    answer=answer.text,
                    links=links,
                    missing=missing,
                )
            )
    return results


@contextmanager
def echo_chat(edge_data: Path) -> Iterator[tuple[str, Any]]:
    """The real chat app on loopback, its one provider a fake that echoes the system message."""
    sys.path.insert(0, str(ROOT))
    from edge.chat import create_app
    from edge.settings import load_settings
    from tests.support.fakeproviders import fake_providers
    from tests.support.servers import serve

    with fake_providers() as fake:
        fake.modes["echo"] = "echo"
        env = {"ECHO_API_KEY": "k", "SITEGEN_CHAT_ECHO_BASE_URL": fake.url("echo")}
        settings = load_settings(env, data_dir=edge_data, local_dir=edge_data)
        settings.site["chat"]["providers"] = [
            {
                "id": "echo",
                "name": "Echo",
                "api": "openai",
                "base_url": "https://invalid.example",
                "model": "echo",
                "api_key_env": "ECHO_API_KEY",
                "timeout": 5,
                "max_tokens": 64,
            }
        ]
        settings.site["chat"]["limits"]["rate_per_minute"] = 100_000
        with serve(create_app(settings)) as base:
            yield f"{base}/", fake


def check_grounding(edge_data: Path, questions: list[dict[str, Any]], results: list[Result]) -> None:
    """Fill ``Result.grounded``: the expected links and facts were in what the model received."""
    import httpx

    site = json.loads((edge_data / "site.json").read_text(encoding="utf-8"))
    by_key = {(r.region, r.q): r for r in results}
    with echo_chat(edge_data) as (url, fake), httpx.Client(timeout=10) as client:
        for region in site["regions"]:
            for item in questions:
                exp = expected(site, region, item["expect"])
                if exp.no_price:
                    continue  # nothing on the site is the right context for an out-of-scope question
                fake.requests.clear()
                body = {"region": region, "messages": [{"role": "user", "content": item["q"]}]}
                client.post(url + "?stream=0", json=body).raise_for_status()
                system = fake.requests[-1]["body"]["messages"][0]["content"]
                urls = re.findall(r"\((/[^)\s]*)\)", system)
                result = by_key[(region, item["q"])]
                result.grounded = not grade(Expected(exp.facts, exp.urls), system, urls)
                # The region's prompt alone names every service page, the contact page and the privacy
                # policy; this stricter check looks only at the chunks ranked for the question.
                from edge.grounding import CONTEXT_HEADER

                ranked = system.split(CONTEXT_HEADER, 1)[1] if CONTEXT_HEADER in system else ""
                result.retrieved = not grade(
                    Expected([], exp.urls), ranked, re.findall(r"\((/[^)\s]*)\)", ranked)
                )


def table(results: list[Result]) -> str:
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    regions = sorted({r.region for r in results})
    for r in results:
        groups[(r.cat, r.region)].append(r)
        groups[(f"lang: {r.lang}", r.region)].append(r)
        groups[("held out" if r.heldout else "tuned on", r.region)].append(r)
        groups[("all", r.region)].append(r)
    grounded = any(r.grounded is not None for r in results)
    head = "| category | " + " | ".join(regions) + " |"
    if grounded:
        head += " " + " | ".join(f"{rid}: in context | {rid}: ranked" for rid in regions) + " |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    cats = dict.fromkeys(r.cat for r in results)
    rows = [*cats, "lang: en", "lang: ur", "tuned on", "held out", "all"]
    for cat in rows:
        cells = []
        for rid in regions:
            group = groups.get((cat, rid), [])
            right = sum(r.ok for r in group)
            cells.append(f"{right}/{len(group)} ({100 * right / max(1, len(group)):.0f} %)")
        if grounded:
            for rid in regions:
                checked = [r for r in groups.get((cat, rid), []) if r.grounded is not None]
                for ok in (sum(bool(r.grounded) for r in checked), sum(bool(r.retrieved) for r in checked)):
                    cells.append(f"{ok}/{len(checked)}" if checked else "–")
        lines.append(f"| {cat} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def accuracy(results: list[Result], region: str, **match: Any) -> float:
    group = [r for r in results if r.region == region and all(getattr(r, k) == v for k, v in match.items())]
    return sum(r.ok for r in group) / max(1, len(group))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--providers", action="store_true", help="also check grounding with an echoing fake provider"
    )
    parser.add_argument("--failures", action="store_true", help="print every wrong answer")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    args = parser.parse_args(argv)
    questions = load_questions()
    with tempfile.TemporaryDirectory() as tmp:
        edge_data = build_site(Path(tmp) / "dist")
        results = run_offline(edge_data, questions)
        if args.providers:
            check_grounding(edge_data, questions, results)
    print(f"{len(questions)} questions x {len({r.region for r in results})} regions\n")
    print(table(results))
    if args.failures:
        for r in results:
            if not r.ok or r.grounded is False or r.retrieved is False:
                print(
                    f"\n[{r.region}] {r.q}\n  answer: {r.answer}\n  links: {r.links}\n  missing: {r.missing}"
                    + ("\n  context lacked the expected page or fact" if r.grounded is False else "")
                )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
