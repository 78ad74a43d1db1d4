"""The kinds of content moderation works on: flags, cases and automatic detection apply to any registered kind.

The app that owns a kind registers it once, from its AppConfig.ready()::

    from moderation.registry import moderatable_register

    moderatable_register(
        Message,
        kind="message",
        text=lambda message: message.body,
        author=lambda message: message.sender,
        hide=services.message_hide,        # called as hide(obj=..., by=user_or_None, reason="...")
        restore=services.message_restore,  # called as restore(obj=..., by=user_or_None, reason="...")
        describe=lambda message: f"Message in conversation #{message.conversation_id}",
        url=lambda message: reverse("messaging:conversation", args=[message.conversation_id]),
    )

and calls `moderation.services.content_submitted(obj=...)` inside the transaction that creates or edits the
content. The callables are the owning app's: moderation never writes another app's rows itself.

- `text(obj) -> str`: everything a reader sees (title and body); detection scores it, cases show it.
- `author(obj) -> User | None`: who wrote it; strikes, suspensions and the verified badge concern this user.
- `hide(*, obj, by, reason)`: take the content out of view until a moderator decides (automatic detection with
  high confidence, or a new version matching removed content). `by` is None when the system acts.
- `restore(*, obj, by, reason)`: put hidden or removed content back (a "keep" decision, an appeal reversed).
- `remove(*, obj, by, reason)`: the moderator's removal; defaults to `hide` for kinds with one hidden state.
- `describe(obj) -> str`: a one-line title for queues and e-mails ("Listing #12: iPhone 13, 128 GB").
- `url(obj) -> str`: a staff page for the object, linked from the case page (optional).
- `facts(obj) -> list[tuple[str, str]]`: extra lines for the case page, e.g. price and category (optional).
- `images(obj) -> list[ContentImage]`: the pictures that come with the content, e.g. a listing's photos
  (optional). The case page shows a file of the default storage as a thumbnail served by moderation's own
  access-checked view, and an outside address as a link; the owning app decides which storage keys are its
  content's pictures, so that a reference can never point moderators at another kind of private file.
- `lookup(pk) -> obj | None`: load an object by the id users flag it with (default: the model's pk).
- `visible_to(obj, user) -> bool`: whether this user can see the object and so may report it (default: yes, as
  listings and profiles are public). A user who cannot see an object is told it does not exist, so reporting
  is no way to learn what exists, nor to copy someone else's private text onto a case.
- `detectors`: extra detection rules for this kind, each `detector(obj, text) -> list[Finding]`.
- `skip_signals`: general rules that make no sense for this kind, by DetectionSignal code (e.g. "phone" for
  messages to the support team, where a phone number is normal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models


@dataclass(frozen=True)
class Finding:
    """One detection signal: its code (DetectionSignal.Code), the flag reason it points to, points, detail."""

    code: str
    reason: str
    weight: int
    detail: str = ""


Detector = Callable[[Any, str], list[Finding]]


@dataclass(frozen=True)
class ContentImage:
    """One picture of some content: a file in the default storage (`key`) or an outside https address (`url`);
    neither when the reference is not one the owning app serves (it is then shown as text only)."""

    reference: str
    key: str = ""
    url: str = ""


@dataclass(frozen=True)
class Moderatable:
    kind: str
    model: type[models.Model]
    text: Callable[[Any], str]
    author: Callable[[Any], Any]
    hide: Callable[..., Any]
    restore: Callable[..., Any]
    remove: Callable[..., Any]
    describe: Callable[[Any], str]
    url: Callable[[Any], str] | None = None
    facts: Callable[[Any], list[tuple[str, str]]] | None = None
    images: Callable[[Any], list[ContentImage]] | None = None
    lookup: Callable[[int], Any] | None = None
    visible_to: Callable[[Any, Any], bool] | None = None
    detectors: tuple[Detector, ...] = ()
    skip_signals: frozenset[str] = field(default_factory=frozenset)

    def get(self, pk: int) -> Any | None:
        """The object users flag as `pk`, or None when there is none."""
        if self.lookup is not None:
            return self.lookup(pk)
        return self.model._default_manager.filter(pk=pk).first()

    def get_for_reporter(self, pk: int, reporter: Any) -> Any | None:
        """The object `reporter` flags as `pk`, or None when there is none or the reporter cannot see it."""
        obj = self.get(pk)
        if obj is None or (self.visible_to is not None and not self.visible_to(obj, reporter)):
            return None
        return obj

    def images_of(self, obj: Any) -> list[ContentImage]:
        """The content's pictures, none for a kind without any or content that no longer exists."""
        if self.images is None or obj is None:
            return []
        return self.images(obj)


_by_kind: dict[str, Moderatable] = {}
_by_model: dict[type[models.Model], Moderatable] = {}


def moderatable_register(
    model: type[models.Model],
    *,
    kind: str,
    text: Callable[[Any], str],
    author: Callable[[Any], Any],
    hide: Callable[..., Any],
    restore: Callable[..., Any],
    describe: Callable[[Any], str],
    remove: Callable[..., Any] | None = None,
    url: Callable[[Any], str] | None = None,
    facts: Callable[[Any], list[tuple[str, str]]] | None = None,
    images: Callable[[Any], list[ContentImage]] | None = None,
    lookup: Callable[[int], Any] | None = None,
    visible_to: Callable[[Any, Any], bool] | None = None,
    detectors: Sequence[Detector] = (),
    skip_signals: Sequence[str] = (),
) -> Moderatable:
    """Register (or replace, by kind) a moderatable kind of content. See the module docstring for the callables."""
    existing = _by_kind.get(kind)
    if existing is not None and existing.model is not model:
        raise ImproperlyConfigured(f"The moderation kind {kind!r} is already registered for {existing.model}.")
    entry = Moderatable(
        kind=kind,
        model=model,
        text=text,
        author=author,
        hide=hide,
        restore=restore,
        remove=remove or hide,
        describe=describe,
        url=url,
        facts=facts,
        images=images,
        lookup=lookup,
        visible_to=visible_to,
        detectors=tuple(detectors),
        skip_signals=frozenset(skip_signals),
    )
    _by_kind[kind] = entry
    _by_model[model] = entry
    return entry


def moderatable_for_kind(kind: str) -> Moderatable | None:
    return _by_kind.get(kind)


def moderatable_for(obj_or_model: models.Model | type[models.Model]) -> Moderatable:
    """The registration of an object's model; raises ImproperlyConfigured for a model nobody registered."""
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    entry = _by_model.get(model)
    if entry is None:
        raise ImproperlyConfigured(f"{model.__name__} is not registered with moderation.registry.")
    return entry


def moderatable_kinds() -> list[Moderatable]:
    return sorted(_by_kind.values(), key=lambda entry: entry.kind)
