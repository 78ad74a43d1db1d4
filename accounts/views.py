"""Pages: the staff review queue, registration detail, block rules, staff sign-in, and the public sign-up.

Views parse input and check permissions; every change goes through accounts.services, whose domain errors become
form errors or flash messages, never a server error.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from saypro import ratelimit
from saypro.clientip import client_ip
from saypro.errors import DomainError, InvalidInput, RateLimited
from saypro.forms import add_service_errors
from saypro.paginators import POSITION_PARAMS, KeysetPage
from saypro.request_guards import local_url

from . import escalation, selectors, services
from .forms import (
    ApproveForm,
    BlockRuleForm,
    BulkDecisionForm,
    EscalateForm,
    PhoneCodeForm,
    ProvideInfoForm,
    QueueFilterForm,
    RegisterForm,
    RejectForm,
    RequestInfoForm,
)
from .models import DECIDED_STATUSES, BlockRule, Registration, SignUpStart, User

QUEUE_PAGE_SIZE = 50
BLOCK_RULE_PREVIEW_ROWS = 100
# Sign-ups per client address and hour through the page (the API has its own throttle).
REGISTER_PAGE_LIMIT = 20
# Sign-up starts counted per network and hour: enough for a household, too few for a script to swell the funnel.
REGISTER_START_LIMIT = 60
# The address the last sign-up from this browser was sent to, for the "check your inbox" page.
SENT_TO_KEY = "register_sent_to"

ViewFunc = Callable[..., HttpResponseBase]


class SignedInRequest(HttpRequest):
    """A request that passed login_required: its user is a real account."""

    user: User


def _permission_page(perm: str) -> Callable[[ViewFunc], ViewFunc]:
    """Anonymous visitors go to the sign-in page; signed-in users without the permission get a 403."""

    def decorator(view: ViewFunc) -> ViewFunc:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


review_required = _permission_page("accounts.review_registration")
read_required = _permission_page("accounts.view_registration")
block_rules_required = _permission_page("accounts.manage_block_rules")


def _risk_levels() -> dict[str, int]:
    # At the review threshold a registration always goes to a reviewer; half of it is worth a second look.
    high = settings.REGISTRATION_REVIEW_THRESHOLD
    return {"risk_high": high, "risk_medium": max(1, high // 2)}


def _is_breached(registration: Registration) -> bool:
    # Annotated by the accounts selectors from the open approval clock.
    return bool(getattr(registration, "is_breached", False))


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return local_url(request, target, fallback)


# --- Review queue --------------------------------------------------------------------------------------------


@require_GET
@review_required
def queue(request: SignedInRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    filters = form.selector_kwargs()
    rows = selectors.registration_queue(**filters)
    page = KeysetPage(rows, request.GET, QUEUE_PAGE_SIZE)
    query = request.GET.copy()
    for name in POSITION_PARAMS:
        query.pop(name, None)
    return render(
        request,
        "accounts/queue.html",
        {
            "form": form,
            "page": page,
            "filter_query": query.urlencode(),
            "now": timezone.now(),
            # Decided registrations are listed for reference only: nothing to select or decide.
            "decisions_possible": filters["status"] not in DECIDED_STATUSES,
            "undo_offer": _undo_offer(request),
            **_risk_levels(),
        },
    )


def _selected_rows(ids: list[int]) -> QuerySet[Registration]:
    return selectors.registration_queue().filter(pk__in=ids)


@require_POST
@review_required
def queue_bulk(request: SignedInRequest) -> HttpResponse:
    """Two steps: the queue posts the selection and the decision, then a confirmation page posts it again with
    the reason (and the delay cause, when any selected registration is past its deadline)."""
    back = _safe_next(request, reverse("accounts:queue"))
    probe = BulkDecisionForm(request.POST)
    probe.is_valid()
    ids = probe.cleaned_data.get("ids") or []
    decision = probe.cleaned_data.get("decision")
    if not ids or decision is None:
        for error in [*probe.errors.get("ids", []), *probe.errors.get("decision", [])] or ["Select registrations."]:
            messages.error(request, error)
        return redirect(back)
    rows = list(_selected_rows(ids))
    if not rows:
        messages.warning(request, "None of the selected registrations is still pending.")
        return redirect(back)
    breached = any(_is_breached(row) for row in rows)
    if "confirm" not in request.POST:
        form = BulkDecisionForm(initial={"ids": ids, "decision": decision}, breached=breached)
    else:
        form = BulkDecisionForm(request.POST, breached=breached)
        if form.is_valid():
            try:
                result = services.registrations_bulk_decide(
                    ids=form.cleaned_data["ids"],
                    by=request.user,
                    decision=decision,
                    reason=form.cleaned_data["reason"],
                    delay_cause=form.cleaned_data["delay_cause"],
                    delay_note=form.cleaned_data["delay_note"],
                )
            except InvalidInput as exc:
                add_service_errors(form, exc)
            else:
                verb = "Approved" if decision == "approve" else "Rejected"
                if result.decided:
                    count = len(result.decided)
                    messages.success(request, f"{verb} {count} registration{'s' if count != 1 else ''}.")
                for pk, why in result.skipped.items():
                    messages.warning(request, f"Registration #{pk} was skipped: {why}")
                return redirect(back)
    return render(
        request,
        "accounts/queue_confirm.html",
        {
            "form": form,
            "rows": rows,
            "decision": decision,
            "breached": breached,
            "next": back,
            "missing": len(ids) - len(rows),
            "now": timezone.now(),
            **_risk_levels(),
        },
    )


# --- Registration detail and decisions ---------------------------------------------------------------------


def _detail_or_404(pk: int) -> Registration:
    try:
        return selectors.registration_detail(pk=pk)
    except Registration.DoesNotExist:
        raise Http404("No such registration.") from None


def _render_detail(request: SignedInRequest, registration: Registration, **forms: Any) -> HttpResponse:
    breached = _is_breached(registration)
    now = timezone.now()
    clock = selectors.registration_clock(registration=registration)
    paused_remaining = ""
    claimed_elsewhere = _claimed_by_colleague(request, registration)
    if clock is not None and clock.state == "paused" and clock.remaining_seconds is not None:
        paused_remaining = timeuntil(now + timedelta(seconds=clock.remaining_seconds), now, depth=2)
    context = {
        "registration": registration,
        "clock": clock,
        "paused_remaining": paused_remaining,
        "history": selectors.registration_history(registration=registration),
        "signals": list(registration.signals.all()),
        "approve_form": forms.get("approve_form") or ApproveForm(prefix="approve", breached=breached),
        "reject_form": forms.get("reject_form") or RejectForm(prefix="reject", breached=breached),
        "info_form": forms.get("info_form") or RequestInfoForm(prefix="info"),
        "escalate_form": forms.get("escalate_form") or EscalateForm(prefix="escalate"),
        "can_decide_escalated": services.is_administrator(request.user),
        "open_action": forms.get("open_action", ""),
        "can_review": request.user.has_perm("accounts.review_registration"),
        "claimed_elsewhere": claimed_elsewhere,
        "claim_lapsed": registration.claimed_by_id not in (None, request.user.pk) and not claimed_elsewhere,
        "undo_offer": _undo_offer(request),
        "now": now,
        **_risk_levels(),
    }
    return render(request, "accounts/registration_detail.html", context)


@require_GET
@read_required
def registration_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    # Managers read a registration (from the dashboard's lists) without the decisions reviewers take on it.
    return _render_detail(request, _detail_or_404(pk))


DECISION_FORMS: dict[str, tuple[type[forms.Form], str]] = {
    "approve": (ApproveForm, "approve"),
    "reject": (RejectForm, "reject"),
    "request_info": (RequestInfoForm, "info"),
    "escalate": (EscalateForm, "escalate"),
}


CLAIMED_ELSEWHERE = "{name} has claimed this registration: tick “Decide anyway” to decide it yourself."


def _claimed_by_colleague(request: SignedInRequest, registration: Registration) -> bool:
    """Claimed by someone else who is on duty: a claim held by a colleague off shift no longer holds anyone up."""
    claimant = registration.claimed_by
    return claimant is not None and claimant.pk != request.user.pk and selectors.user_is_on_duty(user=claimant)


def _next_registration_url(decided_pk: int, *, undo: bool) -> str:
    """Straight on to the next registration in the queue's order (as moderation goes on to the next case), or back
    to the queue when it is empty; `undo` carries the decided one along so that the page offers to take it back."""
    following = selectors.registration_queue().exclude(pk=decided_pk).values_list("pk", flat=True).first()
    url = reverse("accounts:queue") if following is None else reverse("accounts:registration", args=[following])
    return f"{url}?undo={decided_pk}" if undo else url


def _undo_offer(request: SignedInRequest) -> dict[str, Any] | None:
    """The decision the page offers to undo (`?undo=<pk>`): the viewer's own, and still inside the window."""
    try:
        pk = int(request.GET.get("undo", ""))
    except ValueError:
        return None
    registration = (
        Registration.objects.filter(pk=pk, status__in=DECIDED_STATUSES, decided_by=request.user)
        .select_related("user")
        .first()
    )
    if registration is None or registration.decided_at is None:
        return None
    left = registration.decided_at + timedelta(seconds=settings.REGISTRATION_UNDO_SECONDS) - timezone.now()
    if left.total_seconds() <= 0:
        return None
    return {"registration": registration, "seconds_left": max(1, round(left.total_seconds()))}


def _decide(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Run one decision from the detail page; a form error re-renders the page with that form open."""
    registration = _detail_or_404(pk)
    form_class, prefix = DECISION_FORMS[action]
    options: dict[str, Any] = (
        {} if form_class in (RequestInfoForm, EscalateForm) else {"breached": _is_breached(registration)}
    )
    form = form_class(request.POST, prefix=prefix, **options)
    if form.is_valid() and _claimed_by_colleague(request, registration) and not request.POST.get("decide_anyway"):
        # A colleague is on it: deciding over their head is allowed, but only on purpose.
        claimant = registration.claimed_by
        name = (claimant.get_full_name() or claimant.get_username()) if claimant else "A colleague"
        form.add_error(None, CLAIMED_ELSEWHERE.format(name=name))
    if form.is_valid():
        data = form.cleaned_data
        undo = False
        try:
            if action == "approve":
                services.registration_approve(
                    registration=registration,
                    by=request.user,
                    reason=data["reason"],
                    delay_cause=data["delay_cause"],
                    delay_note=data["delay_note"],
                )
                done, undo = f"Registration #{pk} approved.", True
            elif action == "reject":
                services.registration_reject(
                    registration=registration,
                    by=request.user,
                    reason=data["reason"],
                    delay_cause=data["delay_cause"],
                    delay_note=data["delay_note"],
                )
                done, undo = f"Registration #{pk} rejected.", True
            elif action == "escalate":
                escalation.registration_escalate(registration=registration, by=request.user, reason=data["reason"])
                done = f"Registration #{pk} escalated: the administrators have been e-mailed."
            else:
                services.registration_request_info(registration=registration, by=request.user, message=data["message"])
                done = "The applicant has been asked for more information; the deadline is paused."
        except InvalidInput as exc:
            # E.g. the deadline passed while the page was open: the form now asks for the cause of the delay.
            add_service_errors(form, exc)
        except DomainError as exc:
            # Someone decided first (the message names who and when), or the state no longer allows this.
            messages.error(request, exc.message)
            return redirect("accounts:registration", pk=pk)
        else:
            messages.success(request, done)
            if request.POST.get("next"):
                return redirect(_safe_next(request, reverse("accounts:registration", args=[pk])))
            return redirect(_next_registration_url(pk, undo=undo))
    return _render_detail(request, _detail_or_404(pk), **{f"{prefix}_form": form, "open_action": prefix})


@require_POST
@review_required
def registration_approve(request: SignedInRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "approve")


@require_POST
@review_required
def registration_reject(request: SignedInRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "reject")


@require_POST
@review_required
def registration_request_info(request: SignedInRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "request_info")


@require_POST
@review_required
def registration_escalate(request: SignedInRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "escalate")


@require_GET
@read_required
def guidelines(request: SignedInRequest) -> HttpResponse:
    current = escalation.guidelines()
    return render(
        request,
        "accounts/guidelines.html",
        {
            "guidelines": current,
            "blocks": escalation.guidelines_blocks(current.text),
            "can_edit": request.user.has_perm("accounts.change_reviewguidelines"),
        },
    )


@require_POST
@review_required
def registration_undo(request: SignedInRequest, pk: int) -> HttpResponse:
    registration = get_object_or_404(Registration, pk=pk)
    try:
        services.registration_decision_undo(registration=registration, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Decision on registration #{pk} undone: it is pending again, and the applicant was not told."
        )
    return redirect("accounts:registration", pk=pk)


@require_POST
@review_required
def registration_claim(request: SignedInRequest, pk: int) -> HttpResponse:
    registration = get_object_or_404(Registration, pk=pk)
    try:
        if request.POST.get("release"):
            services.registration_release(registration=registration, by=request.user)
            messages.success(request, f"Registration #{pk} released.")
        else:
            services.registration_claim(registration=registration, by=request.user)
            messages.success(request, f"You claimed registration #{pk}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_safe_next(request, reverse("accounts:registration", args=[pk])))


@require_POST
@review_required
def registration_verify_id(request: SignedInRequest, pk: int) -> HttpResponse:
    registration = get_object_or_404(Registration, pk=pk)
    try:
        services.registration_verify_id(registration=registration, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The ID document is recorded as checked.")
    return redirect("accounts:registration", pk=pk)


@require_GET
@review_required
def registration_id_document(request: SignedInRequest, pk: int) -> FileResponse:
    """ID documents are personal data: served only to reviewers, never from a public media URL."""
    registration = get_object_or_404(Registration, pk=pk)
    if not registration.id_document:
        raise Http404("No ID document.")
    name = Path(registration.id_document.name or "document").name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(registration.id_document.open("rb"), filename=name, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


# --- Block rules ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@block_rules_required
def block_rules(request: SignedInRequest) -> HttpResponse:
    form = BlockRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = services.block_rule_create(
                kind=data["kind"],
                value=data["value"],
                reason=data["reason"],
                by=request.user,
                expires_at=data["expires_at"],
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Block rule “{rule}” created. Check the matching pending registrations below.")
            return redirect("accounts:block-rule", pk=rule.pk)
    rules = BlockRule.objects.select_related("created_by").order_by("-is_active", "-created_at")
    return render(request, "accounts/block_rules.html", {"form": form, "rules": rules, "now": timezone.now()})


@require_http_methods(["GET", "POST"])
@block_rules_required
def block_rule(request: SignedInRequest, pk: int) -> HttpResponse:
    """A rule with the pending registrations it matches. GET ?confirm=1 asks to confirm; POST applies it."""
    rule = get_object_or_404(BlockRule.objects.select_related("created_by"), pk=pk)
    if request.method == "POST":
        rejected = services.block_rule_apply(rule=rule, by=request.user)
        messages.success(request, f"Rejected {rejected} registration{'s' if rejected != 1 else ''} matching “{rule}”.")
        return redirect("accounts:block-rule", pk=rule.pk)
    matches = services.block_rule_preview(rule=rule).order_by("submitted_at", "pk")
    return render(
        request,
        "accounts/block_rule.html",
        {
            "rule": rule,
            "matches": list(matches[:BLOCK_RULE_PREVIEW_ROWS]),
            "match_count": matches.count(),
            "confirming": request.GET.get("confirm") == "1",
            **_risk_levels(),
        },
    )


# --- Public sign-up -------------------------------------------------------------------------------------------


def _own_registration(request: SignedInRequest) -> Registration:
    registration = Registration.objects.filter(user_id=request.user.pk).first()
    if registration is None:
        raise Http404("No registration for this account.")
    return registration


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and Registration.objects.filter(user_id=request.user.pk).exists():
        return redirect("accounts:register-status")
    form = RegisterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ip = client_ip(request)
        try:
            ratelimit.check(
                f"register-page:{ip}",
                limit=REGISTER_PAGE_LIMIT,
                window=3600,
                message="Too many sign-ups from your network: try again in an hour.",
            )
            registration = services.registration_request(
                email=data["email"],
                password=data["password"],
                full_name=data["full_name"],
                phone=data["phone"],
                country=data["country"],
                region=data["region"],
                language=data["language"],
                age_band=data["age_band"],
                accepted_terms=data["accepted_terms"],
                ip=ip,
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                form_seconds=form.form_seconds(),
                honeypot=data["website"],
                campaign=request.GET.get("campaign", ""),
                id_document=data["id_document"],
                start=data["start"],
                channel=SignUpStart.Channel.WEB,
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except RateLimited as exc:
            form.add_error(None, exc.message)
        else:
            if registration is not None:
                services.registration_submit(registration=registration)
            # The same page whether or not the address already had an account (its owner is e-mailed instead), so
            # the page does not tell who is registered; the applicant signs in to follow the registration.
            request.session[SENT_TO_KEY] = data["email"].strip().lower()
            return redirect("accounts:register-sent")
    return render(request, "register/register.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
def register_start(request: HttpRequest) -> HttpResponse:
    """The sign-up page's first keystroke: a visitor started the form (the funnel's first step)."""
    try:
        ratelimit.check(
            f"register-start:{client_ip(request)}",
            limit=REGISTER_START_LIMIT,
            window=3600,
            message="Too many sign-ups started from your network.",
        )
        services.signup_start_record(
            token=request.POST.get("start", ""),
            channel=SignUpStart.Channel.WEB,
            campaign=request.GET.get("campaign", ""),
        )
    except InvalidInput as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    except RateLimited as exc:
        return HttpResponse(exc.message, status=429, content_type="text/plain")
    return HttpResponse(status=204)


@require_GET
def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "register/privacy.html", {"version": settings.PRIVACY_POLICY_VERSION})


@require_GET
def terms_of_use(request: HttpRequest) -> HttpResponse:
    return render(request, "register/terms.html", {"version": settings.TERMS_VERSION})


@require_GET
def register_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "register/sent.html", {"email": request.session.get(SENT_TO_KEY, "")})


def _render_status(request: SignedInRequest, registration: Registration, **forms: Any) -> HttpResponse:
    detail = selectors.registration_detail(pk=registration.pk)
    return render(
        request,
        "register/status.html",
        {
            "registration": detail,
            "phone_form": forms.get("phone_form") or PhoneCodeForm(),
            "info_form": forms.get("info_form") or ProvideInfoForm(),
            "now": timezone.now(),
        },
    )


@require_GET
@login_required
def register_status(request: SignedInRequest) -> HttpResponse:
    return _render_status(request, _own_registration(request))


@require_POST
@login_required
def register_resend_email(request: SignedInRequest) -> HttpResponse:
    registration = _own_registration(request)
    try:
        services.email_verification_send(registration=registration)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"We sent a new confirmation link to {registration.user.email}.")
    return redirect("accounts:register-status")


@require_POST
@login_required
def register_phone_send(request: SignedInRequest) -> HttpResponse:
    registration = _own_registration(request)
    try:
        services.phone_code_send(registration=registration)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"We sent a 6-digit code to {registration.phone_e164}.")
    return redirect("accounts:register-status")


@require_POST
@login_required
def register_phone_confirm(request: SignedInRequest) -> HttpResponse:
    registration = _own_registration(request)
    form = PhoneCodeForm(request.POST)
    if form.is_valid():
        try:
            services.phone_code_confirm(registration=registration, code=form.cleaned_data["code"])
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your phone number is confirmed.")
            return redirect("accounts:register-status")
    return _render_status(request, registration, phone_form=form)


@require_POST
@login_required
def register_provide_info(request: SignedInRequest) -> HttpResponse:
    registration = _own_registration(request)
    form = ProvideInfoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.registration_provide_info(
                registration=registration,
                message=form.cleaned_data["message"],
                id_document=form.cleaned_data["id_document"],
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("accounts:register-status")
        else:
            messages.success(request, "Thank you: your answer is with our reviewers.")
            return redirect("accounts:register-status")
    return _render_status(request, registration, info_form=form)


@require_GET
def register_verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        registration = services.email_verify(token=token)
    except InvalidInput as exc:
        return render(request, "register/verify_email.html", {"error": exc.message}, status=400)
    return render(request, "register/verify_email.html", {"registration": registration})
