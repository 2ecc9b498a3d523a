"""Which golden path replaces a ticket: its ``spec.replaces`` phrases first, then the nearest
template by TF-IDF cosine similarity, kept only above a threshold.

A phrase match scores 1.0; a TF-IDF match scores its cosine similarity (0..1); a ticket below
the threshold has no golden path yet (score kept, so the threshold can be judged).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from goldenpath.templates.loader import Template

TFIDF_THRESHOLD = 0.25
_WORDS = re.compile(r"[^\w]+", re.UNICODE)


def normalize(text: str) -> str:
    """Lower case, punctuation as spaces, one space between words (any script)."""
    return " ".join(_WORDS.sub(" ", text.casefold()).split())


@dataclass(frozen=True)
class Match:
    path: str | None  # the template name, or None: no golden path yet
    score: float
    method: str  # "phrase", "tfidf" or "none"


@dataclass(frozen=True)
class PathProfile:
    """What a golden path says about the tickets it replaces."""

    name: str
    replaces: str
    phrases: tuple[str, ...]
    text: str  # title, description, tags and phrases, for TF-IDF

    @classmethod
    def of(cls, template: Template) -> PathProfile | None:
        spec, meta = template.document.spec, template.document.metadata
        if not spec.replaces:
            return None
        phrases = tuple(normalize(p) for p in (spec.replaces, *spec.replaces_phrases) if p)
        text = " ".join([meta.title or "", meta.description or "", *meta.tags, *phrases])
        return cls(name=template.name, replaces=spec.replaces, phrases=phrases, text=text)


class Classifier:
    def __init__(
        self, templates: Sequence[Template], *, threshold: float = TFIDF_THRESHOLD
    ) -> None:
        self.profiles = [p for p in (PathProfile.of(t) for t in templates) if p is not None]
        self.threshold = threshold

    def replaces(self, path: str) -> str | None:
        return next((p.replaces for p in self.profiles if p.name == path), None)

    def classify(self, texts: Sequence[str]) -> list[Match]:
        """One match per ticket text (its title, then its description)."""
        normalized = [normalize(t) for t in texts]
        matches: list[Match | None] = [self._phrase(t) for t in normalized]
        rest = [i for i, m in enumerate(matches) if m is None]
        if rest and self.profiles:
            for index, match in zip(rest, self._tfidf([normalized[i] for i in rest]), strict=True):
                matches[index] = match
        return [m or Match(None, 0.0, "none") for m in matches]

    def _phrase(self, text: str) -> Match | None:
        padded = f" {text} "
        best: tuple[int, str] | None = None
        for profile in self.profiles:
            for phrase in profile.phrases:
                if f" {phrase} " in padded and (best is None or len(phrase) > best[0]):
                    best = (len(phrase), profile.name)
        return Match(best[1], 1.0, "phrase") if best else None

    def _tfidf(self, texts: list[str]) -> list[Match]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        documents = [normalize(p.text) for p in self.profiles]
        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
        vectorizer.fit(documents + texts)
        # Rows are L2-normalized, so the dot product is the cosine similarity.
        similarity = vectorizer.transform(texts) @ vectorizer.transform(documents).T
        dense = similarity.toarray()
        found: list[Match] = []
        for row in dense:
            best = int(row.argmax())
            score = round(float(row[best]), 4)
            if score >= self.threshold:
                found.append(Match(self.profiles[best].name, score, "tfidf"))
            else:
                found.append(Match(None, score, "none"))
        return found
