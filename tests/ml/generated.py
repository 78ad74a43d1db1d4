"""Small labelled text made up on the spot, so that the classifier tests train in a second and need no data files.

Each label has words of its own, words it shares with a neighbouring label and common filler; a share of the
texts use mostly the shared words, so the classes overlap the way real ones do: a classifier gets most texts
right, is unsure about some, and its raw scores are not probabilities until they are calibrated.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path


def _words(text: str) -> list[str]:
    return text.split()


FILLER = _words("please the a my i have is it this to and for with hello thanks today again now")
TOPICS = {
    "billing": _words("refund charged payment card invoice money fee bank paid twice"),
    "orders": _words("parcel delivery order shipped arrived courier tracking package late address"),
    "accounts": _words("password login account profile email sign locked verify username reset"),
}
# Words that two labels share: texts made of them are honestly ambiguous.
SHARED = {
    ("billing", "orders"): _words("order refund cancel return"),
    ("orders", "accounts"): _words("address details update change"),
    ("accounts", "billing"): _words("card details security charge"),
}

SPAM_WORDS = _words("win prize free claim txt call cash urgent offer winner award selected reply now stop")
HAM_WORDS = _words("lunch meeting tomorrow home sorry later dinner love call see tonight work class ok")
BOTH = _words("call now free text reply today")


def _neighbours(label: str) -> list[str]:
    words: list[str] = []
    for pair, shared in SHARED.items():
        if label in pair:
            words += shared
    return words


def topic_texts(n: int, *, seed: int = 0, ambiguous: float = 0.25) -> tuple[list[str], list[str]]:
    """`n` texts over three support topics; `ambiguous` of them mostly in words shared with another topic."""
    rng = random.Random(seed)
    labels = list(TOPICS)
    texts, truth = [], []
    for index in range(n):
        label = labels[index % len(labels)]
        if rng.random() < ambiguous:
            words = rng.choices(_neighbours(label), k=4) + rng.choices(TOPICS[label], k=rng.choice([0, 1]))
        else:
            words = rng.choices(TOPICS[label], k=rng.randint(2, 4)) + rng.choices(_neighbours(label), k=1)
        words += rng.choices(FILLER, k=rng.randint(2, 5))
        rng.shuffle(words)
        texts.append(" ".join(words) + f" {rng.randint(1, 999)}")
        truth.append(label)
    return texts, truth


def spam_texts(
    n: int, *, seed: int = 0, spam_share: float = 0.3, ambiguous: float = 0.15
) -> tuple[list[str], list[str]]:
    """`n` short messages, `spam_share` of them spam; `ambiguous` of each kind borrow the other's words."""
    rng = random.Random(seed)
    texts, truth = [], []
    for _ in range(n):
        label = "spam" if rng.random() < spam_share else "ham"
        own, other = (SPAM_WORDS, HAM_WORDS) if label == "spam" else (HAM_WORDS, SPAM_WORDS)
        if rng.random() < ambiguous:
            words = rng.choices(other, k=2) + rng.choices(BOTH, k=2) + rng.choices(own, k=1)
        else:
            words = rng.choices(own, k=rng.randint(3, 6)) + rng.choices(BOTH, k=rng.randint(0, 2))
        words += rng.choices(FILLER, k=rng.randint(1, 4))
        rng.shuffle(words)
        texts.append(" ".join(words))
        truth.append(label)
    return texts, truth


def write_csv(path: Path, texts: list[str], labels: list[str], *, header: tuple[str, str] = ("text", "label")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(zip(texts, labels, strict=True))
    return path
