"""What comments are about: survey and feedback comments grouped into topics with scikit-learn.

TF-IDF over words and word pairs, reduced by latent semantic analysis, then k-means on the normalised vectors
(cosine geometry), trying 2 to MAX_TOPICS groups and keeping the count with the best silhouette. A topic reads as
its heaviest terms. The fit is deterministic (fixed seed, input in a fixed order), so a refresh over the same
comments gives the same topics. Document 003: "Analyze recurring feedback and prepare monthly improvement
proposals".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# scikit-learn is imported where topics are fitted, not here: this module is imported as Django starts (through
# support's services), and scikit-learn's import costs seconds of CPU in every web, worker and command process.

SEED = 0
MAX_TOPICS = 8
# Fewer comments than this say too little to group: no topics rather than noise.
MIN_COMMENTS = 6
# A topic needs this many comments per extra group tried: 30 comments try at most 10 groups (capped above).
COMMENTS_PER_TOPIC = 3
TOP_TERMS = 8
LABEL_TERMS = 3
# The silhouette is estimated on a sample above this size (it is quadratic in the comments).
SILHOUETTE_SAMPLE = 2000
NEARLY_BEST = 0.9
LSA_COMPONENTS = 100
LSA_MIN_COMMENTS = 50
# Words every request and comment uses whatever it is about: they would name topics "Help, need, want".
FILLER = {
    "able",
    "ask",
    "asking",
    "assist",
    "assistance",
    "check",
    "could",
    "don",
    "expect",
    "get",
    "got",
    "hello",
    "help",
    "info",
    "information",
    "just",
    "know",
    "let",
    "like",
    "look",
    "make",
    "need",
    "please",
    "pls",
    "possible",
    "quick",
    "really",
    "see",
    "tell",
    "thank",
    "thanks",
    "trying",
    "wanna",
    "want",
    "wanted",
    "way",
    "would",
}
# Letters only, three or more: numbers, order ids and "ok" say nothing about a subject.
TOKENS = r"(?u)\b[^\W\d_]{3,}\b"


@dataclass(frozen=True)
class FoundTopic:
    terms: list[str]

    @property
    def label(self) -> str:
        return topic_label(self.terms)


@dataclass(frozen=True)
class TopicFit:
    topics: list[FoundTopic]
    # Per input text: the index of its topic, or None (blank, too short, or too few comments to group).
    assignments: list[int | None]
    # Per input text: cosine similarity to its topic's centre (0 without a topic).
    closeness: list[float]


def topic_label(terms: Sequence[str]) -> str:
    words = ", ".join(terms[:LABEL_TERMS])
    return words[:1].upper() + words[1:]


def _distinct_terms(ranked: Sequence[str]) -> list[str]:
    """The heaviest terms, skipping one whose words a heavier term already says ("late" after "late delivery")."""
    chosen: list[str] = []
    for term in ranked:
        words = set(term.split())
        if any(words <= set(other.split()) or set(other.split()) <= words for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == TOP_TERMS:
            break
    return chosen


def _reduced(rows: Any, seed: int) -> Any:
    """Latent semantic analysis: comments that use different words for one thing land close together. A few
    dozen comments are too few to learn which words go together: they are grouped on their own terms."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    components = min(LSA_COMPONENTS, rows.shape[1] - 1, rows.shape[0] - 1)
    if rows.shape[0] < LSA_MIN_COMMENTS or components < 2:
        return normalize(rows).toarray()
    return normalize(TruncatedSVD(n_components=components, random_state=seed).fit_transform(rows))


def topics_fit(texts: Sequence[str], *, max_topics: int = MAX_TOPICS, seed: int = SEED) -> TopicFit:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
    from sklearn.metrics import silhouette_score

    none = TopicFit(topics=[], assignments=[None] * len(texts), closeness=[0.0] * len(texts))
    kept = [i for i, text in enumerate(texts) if text and text.strip()]
    if len(kept) < MIN_COMMENTS:
        return none
    large = len(kept) >= LSA_MIN_COMMENTS
    vectorizer = TfidfVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS | FILLER),
        token_pattern=TOKENS,
        ngram_range=(1, 2),
        # On a small corpus a term seen once may still be the subject; on a large one it is noise.
        min_df=2 if large else 1,
        max_df=0.5 if large else 1.0,
        sublinear_tf=True,
        max_features=20000,
    )
    try:
        matrix = vectorizer.fit_transform([texts[i] for i in kept])
    except ValueError:  # nothing but stop words
        return none
    has_terms = np.asarray(matrix.getnnz(axis=1)).ravel() > 0
    rows = matrix[has_terms]
    indexes = [i for i, keep in zip(kept, has_terms, strict=True) if keep]
    if len(indexes) < MIN_COMMENTS:
        return none
    vocabulary = vectorizer.get_feature_names_out()
    points = _reduced(rows, seed)
    # The same comment many times ("Late delivery") is one point with a weight: repeats would otherwise form
    # tight groups of their own, which the silhouette rewards.
    unique, inverse, counts = np.unique(np.round(points, 8), axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    highest = min(max_topics, len(indexes) // COMMENTS_PER_TOPIC, len(unique) - 1)
    tried: list[tuple[float, np.ndarray]] = []
    for k in range(2, highest + 1):
        model = KMeans(n_clusters=k, random_state=seed, n_init=4).fit(unique, sample_weight=counts)
        if len(set(model.labels_)) < 2:
            continue
        sample = min(SILHOUETTE_SAMPLE, len(unique))
        score = float(silhouette_score(unique, model.labels_, metric="cosine", sample_size=sample, random_state=seed))
        tried.append((score, model.labels_[inverse]))
    labels = np.zeros(rows.shape[0], dtype=int)
    if tried:
        # The fewest topics that score nearly as well as the best: more groups always fit text a little better.
        best = max(score for score, _ in tried)
        labels = next(found for score, found in tried if score >= NEARLY_BEST * best)
    # Too few comments to split leaves one topic of them all: it still says what they are about.
    clusters = sorted(set(int(label) for label in labels))
    # A topic's terms: the mean TF-IDF of its comments (readable words, unlike the reduced space).
    term_means = np.vstack([np.asarray(rows[labels == c].mean(axis=0)).ravel() for c in clusters])
    centres = np.vstack([points[labels == c].mean(axis=0) for c in clusters])
    # Topics in a stable order: the largest first, ties by their heaviest term.
    found = []
    for position, cluster in enumerate(clusters):
        weights = term_means[position]
        ranked = [str(vocabulary[j]) for j in np.argsort(-weights, kind="stable") if weights[j] > 0]
        found.append((-int((labels == cluster).sum()), ranked[:1], cluster, _distinct_terms(ranked)))
    found.sort()
    order = {cluster: position for position, (_, _, cluster, _) in enumerate(found)}
    norms = np.linalg.norm(centres, axis=1)
    similarity = points @ centres.T / np.where(norms == 0, 1, norms)
    assignments: list[int | None] = [None] * len(texts)
    closeness = [0.0] * len(texts)
    for row, index in enumerate(indexes):
        cluster = int(labels[row])
        assignments[index] = order[cluster]
        closeness[index] = round(float(similarity[row, clusters.index(cluster)]), 6)
    return TopicFit(
        topics=[FoundTopic(terms=terms) for _, _, _, terms in found], assignments=assignments, closeness=closeness
    )
