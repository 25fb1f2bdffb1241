"""Ranking the site's chunks for a visitor's question (BM25 via ``bm25s``).

The build writes ``chat/<region>.chunks.json`` (each page section and each
service with its price) and ``site.json`` carries ``chat.vocabulary``: visitors'
words (synonyms, brand names, Roman Urdu) for the site's own. A question is
tokenised like the chunks, then every vocabulary phrase found in it adds its
key's words, so "logo banwana hai" is searched as if it also said "branding".
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import bm25s
import numpy

from edge.settings import Settings

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about what is asked, in English and Roman Urdu.
STOPWORDS = frozenset(
    """a an the and or but of to in on at for with by from about into over after before as is are was were be
    been being am do does did doing have has had i me my we us our you your it its this that these those
    what which who whom how when where why can could would should will shall may might must there here
    please tell know want need get some any all just also very so than then too not no yes if
    hai hain ho hoga hogi ka ki ke ko se mein main mai aap ap apna apne apni mera meri mere hum ham kya
    kyun kaise karte karti karna karein kar koi bhi aur ya yeh ye woh wo tha thi batao batayein bataen
    chahiye""".split()
)


def stem(word: str) -> str:
    """Plurals only: "prices" meets "price"; "-ing" stays, or "branding" would meet "brand"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lowercased, stemmed words without stopwords ("UI/UX" gives "ui", "ux")."""
    return [stem(w) for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS]


@dataclass(frozen=True)
class Vocabulary:
    """``{key: [phrase, ...]}`` from site.yaml's ``chat.vocabulary``, tokenised once."""

    phrases: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()

    @classmethod
    def from_config(cls, raw: Mapping[str, Iterable[str]] | None) -> Vocabulary:
        pairs = []
        for key, phrases in (raw or {}).items():
            key_tokens = tuple(tokens(str(key)))
            for phrase in phrases or ():
                phrase_tokens = tuple(_WORD.findall(str(phrase).lower()))
                if phrase_tokens and key_tokens:
                    pairs.append((phrase_tokens, key_tokens))
        # Longer phrases first, so "kitne paise" is read before a shorter entry could claim "kitne".
        pairs.sort(key=lambda pair: -len(pair[0]))
        return cls(tuple(pairs))

    def expand(self, text: str) -> list[str]:
        """The question's tokens plus the key tokens of every phrase it contains."""
        words = _WORD.findall(text.lower())
        present = set(words)
        added: list[str] = []
        for phrase, key in self.phrases:
            if phrase[0] not in present:
                continue
            n = len(phrase)
            if any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1)):
                added.extend(key)
        return [stem(w) for w in words if len(w) > 1 and w not in STOPWORDS] + added


@dataclass(frozen=True)
class Chunk:
    kind: str  # "page" (a section under a heading) or "service" (with its price)
    url: str
    title: str
    heading: str
    text: str
    service: str = ""

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Chunk:
        return cls(
            kind=str(raw.get("kind", "page")),
            url=str(raw.get("url", "")),
            title=str(raw.get("title", "")),
            heading=str(raw.get("heading", "")),
            text=str(raw.get("text", "")),
            service=str(raw.get("service", "")),
        )

    @property
    def label(self) -> str:
        """What a link to the chunk is called: the page title, then the section when it has one."""
        if self.kind == "page" and self.heading and self.heading != self.title:
            return f"{self.title}: {self.heading}"
        return self.title

    def searchable(self) -> list[str]:
        # Titles and headings count twice: a section called "Your rights" is about rights.
        head = f"{self.title} {self.heading} {self.service.replace('-', ' ')}"
        return tokens(f"{head} {head} {self.text}")


@dataclass
class Hit:
    chunk: Chunk
    score: float
    matched: frozenset[str]  # the question's tokens found in the chunk


@dataclass
class RegionIndex:
    chunks: list[Chunk]
    words: list[frozenset[str]] = field(default_factory=list)
    retriever: bm25s.BM25 | None = None

    @classmethod
    def build(cls, chunks: list[Chunk]) -> RegionIndex:
        corpus = [c.searchable() for c in chunks]
        index = cls(chunks, [frozenset(doc) for doc in corpus])
        if chunks:
            index.retriever = bm25s.BM25()
            index.retriever.index(corpus, show_progress=False)
        return index

    def search(self, query: list[str], limit: int = 3, kinds: set[str] | None = None) -> list[Hit]:
        if self.retriever is None or not query:
            return []
        scores = self.retriever.get_scores(query)
        hits = []
        for i in numpy.argsort(-scores, kind="stable").tolist():
            if scores[i] <= 0:
                break
            if kinds is not None and self.chunks[i].kind not in kinds:
                continue
            hits.append(Hit(self.chunks[i], float(scores[i]), frozenset(query) & self.words[i]))
            if len(hits) == limit:
                break
        return hits


class Retriever:
    """Per-region indexes over the build's chunks, built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.vocabulary = Vocabulary.from_config(settings.section("chat").get("vocabulary"))
        self._indexes: dict[str, RegionIndex] = {}
        self._df: Counter[str] | None = None
        self._docs = 0

    def index(self, region: str) -> RegionIndex:
        if region not in self._indexes:
            try:
                raw = json.loads(self.settings.read_text(f"chat/{region}.chunks.json"))
            except (OSError, ValueError):
                raw = []
            chunks = [Chunk.from_json(c) for c in raw if isinstance(c, dict)]
            self._indexes[region] = RegionIndex.build(chunks)
        return self._indexes[region]

    def query(self, question: str) -> list[str]:
        return self.vocabulary.expand(question)

    def search(self, region: str, question: str, limit: int = 3, kinds: set[str] | None = None) -> list[Hit]:
        return self.index(region).search(self.query(question), limit, kinds)

    def service_idf(self, word: str) -> float:
        """How telling a word is of one service: rare across the services' texts in site.json is telling.

        "website" appears in several services' texts, "maintenance" in one: "website maintenance"
        is about Website Maintenance, "a website" about Web Development ("web" is in no other).
        """
        if self._df is None:
            texts: dict[str, set[str]] = {}
            for info in self.settings.regions.values():
                for service in info.get("services", []):
                    text = " ".join(str(service.get(k, "")) for k in ("id", "name", "summary"))
                    text += " " + " ".join(str(f) for f in service.get("features") or [])
                    texts.setdefault(str(service.get("id", "")), set()).update(tokens(text.replace("-", " ")))
            self._df = Counter(w for words in texts.values() for w in words)
            self._docs = len(texts)
        df = self._df.get(word, 0)
        return math.log(1 + (self._docs - df + 0.5) / (df + 0.5))
