"""Setting a conversation's category on arrival: keyword rules first, then the trainable classifier.

Rules catch the unmistakable cases (a report of a scam ad, the word "complaint") with full confidence. The rest
goes to the shared classifier `messaging.category` (saypro.ml); below the version's threshold (chosen on its
validation set for 97 % right; `MESSAGING_CATEGORY_MIN_CONFIDENCE` for a version trained on too little) its
guess is kept only as a suggestion and an agent decides. Every category an agent sets is kept as a label
(CategoryLabel), and `retrain` fits the next model version on the bootstrap data plus those labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from saypro.ml import services as ml
from saypro.ml.models import TextModel

from .models import Category, CategoryLabel, CategorySource, Conversation

MODEL_NAME = "messaging.category"
# A category set without an agent looking must be right 97 times in 100.
TARGETS = ml.Targets(precision=0.97)

# Ordered: the first rule that matches decides. Complaints and policy reports come first because a complaint
# about a payment is a complaint, not a support request.
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        Category.POLICY,
        re.compile(
            r"\b(scam(mer)?s?|fraud(ulent|ster)?|fake (ad|listing|seller|account)s?|counterfeit|report(ing)? "
            r"(this|an?|the) (ad|listing|seller|user|account)|prohibited (item|listing)|stolen goods|"
            r"policy violation|violat(es|ing) (the )?(rules|policy|terms))\b",
            re.IGNORECASE,
        ),
    ),
    (
        Category.COMPLAINT,
        re.compile(
            r"\b(complain(t|ts|ing)?|reclamation|unacceptable|disgusted|worst service|file a claim|"
            r"customer claim|very (unhappy|disappointed))\b",
            re.IGNORECASE,
        ),
    ),
    (
        Category.RENEWAL,
        re.compile(
            r"\b(renew(al|ing)?|re-?activate|extend (my|the) (ad|listing)|(ad|listing) (has )?expired|"
            r"approv(e|al) (of )?my (ad|listing|account)|pending approval|not (been )?approved( yet)?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        Category.MISC,
        re.compile(r"\b(suggestion|feature request|feedback|would be (nice|great) if)\b", re.IGNORECASE),
    ),
)


@dataclass(frozen=True)
class Decision:
    """What arrival classification concluded. `category` is empty when it was left for an agent."""

    category: str
    source: str
    confidence: float | None
    suggestion: str = ""
    model_version: int | None = None


def rule_category(text: str) -> str:
    for category, pattern in RULES:
        if pattern.search(text):
            return category
    return ""


def categorise(text: str) -> Decision:
    category = rule_category(text)
    if category:
        return Decision(category=category, source=CategorySource.RULE, confidence=1.0)
    prediction = ml.classify(MODEL_NAME, text)
    if prediction is None:
        return Decision(category="", source=CategorySource.NONE, confidence=None)
    # The version's own threshold, chosen on its validation set so that categories set automatically are 97 %
    # right; a version trained on too little to choose one falls back to the configured minimum.
    threshold = prediction.threshold(ml.AUTO, settings.MESSAGING_CATEGORY_MIN_CONFIDENCE)
    if threshold is None or prediction.confidence < threshold:
        return Decision(
            category="",
            source=CategorySource.NONE,
            confidence=prediction.confidence,
            suggestion=prediction.label,
            model_version=prediction.version,
        )
    return Decision(
        category=prediction.label,
        source=CategorySource.MODEL,
        confidence=prediction.confidence,
        model_version=prediction.version,
    )


# --- Training -------------------------------------------------------------------------------------

# Bitext customer-service intents (the `intent` column of triage_train.csv) mapped onto the six categories, to
# bootstrap the classifier before agents have labelled anything. No Bitext intent is a policy-violation report:
# those are caught by the rules and learnt from agents' labels.
BITEXT_INTENTS: dict[str, str] = {
    "delivery_period": Category.GENERAL,
    "delivery_options": Category.GENERAL,
    "check_payment_methods": Category.GENERAL,
    "check_refund_policy": Category.GENERAL,
    "check_cancellation_fee": Category.GENERAL,
    "contact_customer_service": Category.GENERAL,
    "contact_human_agent": Category.GENERAL,
    "check_invoice": Category.GENERAL,
    "place_order": Category.GENERAL,
    "recover_password": Category.SUPPORT,
    "edit_account": Category.SUPPORT,
    "delete_account": Category.SUPPORT,
    "payment_issue": Category.SUPPORT,
    "get_refund": Category.SUPPORT,
    "track_refund": Category.SUPPORT,
    "track_order": Category.SUPPORT,
    "change_order": Category.SUPPORT,
    "cancel_order": Category.SUPPORT,
    "get_invoice": Category.SUPPORT,
    "change_shipping_address": Category.SUPPORT,
    "set_up_shipping_address": Category.SUPPORT,
    "complaint": Category.COMPLAINT,
    "registration_problems": Category.RENEWAL,
    "create_account": Category.RENEWAL,
    "switch_account": Category.RENEWAL,
    "review": Category.MISC,
    "newsletter_subscription": Category.MISC,
}


def bitext_examples(path: str | Path) -> tuple[list[str], list[str]]:
    """(texts, categories) from a Bitext CSV with an `intent` column; unmapped intents are skipped."""
    texts, intents = ml.read_labelled_csv(path, label_column="intent")
    pairs = [
        (text, BITEXT_INTENTS[intent]) for text, intent in zip(texts, intents, strict=True) if intent in BITEXT_INTENTS
    ]
    return [text for text, _ in pairs], [str(category) for _, category in pairs]


def agent_examples() -> tuple[list[str], list[str]]:
    """Agents' labels, the latest per conversation (a second correction replaces the first)."""
    latest: dict[int, tuple[str, str]] = {}
    rows = CategoryLabel.objects.order_by("created_at", "pk").values_list("conversation_id", "text", "category")
    for conversation_id, text, category in rows.iterator():
        latest[conversation_id] = (text, category)
    return [text for text, _ in latest.values()], [category for _, category in latest.values()]


def retrain(*, bootstrap_csv: str | Path | None = None, folds: int = 5, only_if_not_worse: bool = False) -> TextModel:
    """Fit the next version on the bootstrap examples (if given) plus every agent label, and activate it (a weekly
    refit, `only_if_not_worse`, only when it does at least as well on the validation set as the active one)."""
    texts: list[str] = []
    labels: list[str] = []
    if bootstrap_csv:
        texts, labels = bitext_examples(bootstrap_csv)
    agent_texts, agent_labels = agent_examples()
    texts += agent_texts
    labels += agent_labels
    source = f"{Path(bootstrap_csv).name} + " if bootstrap_csv else ""
    return ml.text_model_train(
        name=MODEL_NAME,
        texts=texts,
        labels=labels,
        folds=folds,
        source=f"{source}{len(agent_texts)} agent labels",
        targets=TARGETS,
        only_if_not_worse=only_if_not_worse,
    )


def rebuild() -> TextModel:
    """A full retrain (the active version was pickled by another scikit-learn version)."""
    bootstrap = settings.MESSAGING_CATEGORY_BOOTSTRAP_CSV
    path = Path(bootstrap) if bootstrap else None
    return retrain(bootstrap_csv=path if path and path.exists() else None, folds=0)


def decisions_since(version: int) -> int:
    """Conversations whose category the version set on its own."""
    return Conversation.objects.filter(category_model_version=version, category_source=CategorySource.MODEL).count()
