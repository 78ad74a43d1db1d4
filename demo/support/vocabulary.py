"""The support phase's vocabulary: channels, priorities, ratings, replies, known issues, articles and agents."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import AgentProfile, User
from demo.core import Weighted
from support.models import Channel, Department, Priority

# Tickets per approved user over the quarter.
TICKETS_PER_USER = 0.09
GUIDANCE_PER_TICKET = 1.6
AGENTS: tuple[tuple[str, str, list[str], list[str], list[str]], ...] = (
    ("support1@saypro.example", "Lerato Dube", ["en", "st"], ["Gauteng"], ["accounts", "general"]),
    ("support2@saypro.example", "Sipho Ndlovu", ["en", "zu"], [], ["billing"]),
    ("support3@saypro.example", "Amara Eze", ["en", "fr"], [], ["orders", "feedback"]),
    ("support4@saypro.example", "Johan van Wyk", ["en", "af"], ["Western Cape"], ["orders", "billing"]),
    ("support5@saypro.example", "Fatima Hassan", ["en", "sw"], [], ["technical", "general"]),
    ("support6@saypro.example", "Thabo Molefe", ["en", "tn", "zu"], [], ["accounts", "technical"]),
)
LEADS = (("supportlead@saypro.example", "Grace Mthembu"),)
CHANNELS = Weighted(
    [
        (Channel.WEB, 34),
        (Channel.EMAIL, 24),
        (Channel.CHAT, 20),
        (Channel.SOCIAL, 6),
        (Channel.IN_APP, 10),
        (Channel.CONVERSATION, 6),
    ]
)
PRIORITIES = Weighted([(Priority.URGENT, 4), (Priority.HIGH, 14), (Priority.NORMAL, 64), (Priority.LOW, 18)])
DEPARTMENTS = Weighted(
    [("billing", 30), ("orders", 28), ("accounts", 20), ("general", 9), ("feedback", 6), ("technical", 7)]
)
RATINGS = Weighted([(5, 62), (4, 24), (3, 7), (2, 4), (1, 3)])
LATE_RATINGS = Weighted([(5, 25), (4, 25), (3, 20), (2, 15), (1, 15)])
# What requesters write beside a rating, by how they rated: a few subjects, each in several wordings, so that the
# comment topics (support.topics) have something to find. Half of the ratings come with a comment.
COMMENT_SHARE = 0.5
COMMENTS: dict[str, tuple[str, ...]] = {
    "low": (
        "Still waiting for my refund after a week",
        "The refund took far too long to reach my account",
        "I was charged twice and nobody refunded the second payment",
        "It took two days before anyone answered my ticket",
        "Very slow response, I had to write three times",
        "Nobody replied for days and the problem is still there",
        "The app keeps crashing when I upload photos of my listing",
        "Photo upload in the app still fails on my phone",
        "The agent closed my ticket without solving the problem",
    ),
    "middle": (
        "Solved in the end but the answer was slow",
        "The refund arrived, but it took longer than promised",
        "Helpful answer, though I had to explain the problem twice",
        "Fine, but the app photo upload is still slow",
    ),
    "high": (
        "The agent was friendly and very helpful",
        "Quick answer and the problem was solved the same day",
        "Great support, friendly agent, thank you",
        "Solved within an hour, excellent service",
        "Clear explanation from a helpful agent",
        "My refund was sorted quickly, thanks",
    ),
}


SUBJECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "billing": (
        ("Charged twice for one order", "My card was charged twice for the same purchase. Please refund one."),
        ("Refund not received", "The seller cancelled a week ago and I still have not got my money back."),
        ("Invoice for my listing fees", "I need an invoice with VAT for last month's featured listing fees."),
        ("Payout has not arrived", "I sold an item five days ago but the payout is not in my account."),
        ("Card payment declined", "My card keeps getting declined at checkout although it works elsewhere."),
    ),
    "orders": (
        ("Where is my order?", "The tracking has not moved for four days. Can you check with the courier?"),
        ("Change delivery address", "I moved last week; please send my order to my new address."),
        ("Item not as described", "The phone I received has a cracked screen, the ad said it was new."),
        ("Order cancelled by mistake", "I cancelled the wrong order. Can it be restored?"),
        ("Parcel marked delivered but missing", "The courier says delivered but nothing arrived."),
    ),
    "accounts": (
        ("Cannot sign in", "I reset my password twice and still get 'invalid credentials'."),
        ("Change my phone number", "I have a new number and cannot receive the verification code."),
        ("Delete my account", "Please close my account and remove my data."),
        ("Registration still pending", "I signed up two days ago and my account is not approved yet."),
        ("Someone else uses my e-mail", "I got a sign-up confirmation I did not ask for."),
    ),
    "general": (
        ("Stop the newsletter", "I keep getting the weekly newsletter although I unsubscribed."),
        ("Contact for business partnership", "We are a courier company and would like to partner with SayPro."),
        ("How do featured listings work?", "What do I get for a featured listing and how long does it run?"),
    ),
    "feedback": (
        ("Complaint about a seller", "The seller was rude and refused to honour the advertised price."),
        ("Suggestion for the search", "It would help to filter listings by distance from me."),
        ("Great service", "Just wanted to say thank you for the quick help last week."),
    ),
    "technical": (
        ("App crashes when uploading photos", "Every time I add a third photo to my ad the app closes."),
        ("Checkout page is blank", "After pressing Pay the page stays white on my phone."),
        ("Notifications not arriving", "I no longer get notified about new messages from buyers."),
        ("Map does not load", "The location map on listings shows a grey box."),
    ),
}
REPLIES = {
    "first": "Hello {name},\n\nThank you for contacting SayPro. I am looking into this for you now.",
    "ask": "Hello {name},\n\nCould you send us the order or transaction number so that we can check?",
    "answer": "Here it is, thank you.",
    "solve": "Hello {name},\n\nThis is sorted now. If anything else comes up, simply reply to this message.",
}
KNOWN_ISSUES = (
    (
        "Photo upload fails on Android 14",
        "Uploads of more than two photos crash the app.",
        "Image resizing fixed in 4.3.1.",
    ),
    ("Blank checkout page on older iPhones", "Safari 15 cannot run the new payment form.", "Payment form polyfilled."),
    ("Push notifications delayed", "Notifications arrive hours late for some users.", "Notification queue scaled."),
    ("Map tiles missing", "Listing maps show grey boxes.", ""),
    ("Search ignores price filter", "Listings above the maximum price still appear.", "Search query corrected."),
    ("Duplicate payout e-mails", "Sellers receive the payout confirmation twice.", ""),
)
ARTICLES = {
    "account": (
        (
            "Reset your password",
            "Forgot your password? On the sign-in page choose **Forgot password**, enter your "
            "e-mail address and follow the link we send. The link works for one hour.",
        ),
        (
            "Why is my registration pending?",
            "Most sign-ups are approved in minutes. When we need to check your "
            "details a reviewer decides within **48 hours**; we e-mail you the outcome.",
        ),
        ("Change your phone number", "Open **Profile → Phone**, enter the new number and confirm the 6-digit code."),
    ),
    "payments": (
        ("When will I get my refund?", "Approved refunds reach your bank account within **5–7 working days**."),
        (
            "I was charged twice",
            "A second charge is usually a pending authorisation that disappears within 3 days. "
            "If it stays, report it from the order page.",
        ),
        ("Getting an invoice", "Invoices for listing fees are under **Account → Billing**, downloadable as PDF."),
        ("When are payouts made?", "Payouts are sent 2 working days after the buyer confirms delivery."),
    ),
    "orders": (
        ("Track your order", "Open the order and choose **Track**: the courier's latest scan is shown."),
        ("Change the delivery address", "Until the seller ships, you can change the address on the order page."),
        ("Item not as described", "Open a dispute from the order within 7 days of delivery; add photos."),
    ),
    "selling": (
        ("Featured listings", "A featured listing stays at the top of its category for 7 days."),
        ("Adding photos to your ad", "Up to 10 photos, each at most 10 MB, in JPEG or PNG."),
    ),
    "safety": (
        ("Avoiding scams", "Never pay outside SayPro and never share verification codes. Report suspicious ads."),
        ("Reporting a user", "Use **Report** on the profile or message: our moderators decide within 12 hours."),
    ),
}


def _lognormal(rng: Any, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


def agents_ensure() -> tuple[list[User], User]:
    """The demo's support agents (with profiles and departments) and team lead, created once, without passwords."""
    agent_group = Group.objects.get(name=roles.SUPPORT_AGENT)
    manager_group = Group.objects.get(name=roles.MANAGER)
    departments = {d.slug: d for d in Department.objects.all()}
    password = make_password(None)
    agents = []
    for email, full_name, languages, regions, teams in AGENTS:
        agent, created = User.objects.get_or_create(
            email=email, defaults={"full_name": full_name, "is_staff": True, "password": password}
        )
        if created:
            agent.groups.add(agent_group)
            AgentProfile.objects.create(user=agent, languages=languages, regions=regions)
            for slug in teams:
                departments[slug].members.add(agent)
        agents.append(agent)
    email, full_name = LEADS[0]
    lead, created = User.objects.get_or_create(
        email=email, defaults={"full_name": full_name, "is_staff": True, "password": password}
    )
    if created:
        lead.groups.add(manager_group)
        Department.objects.filter(team_lead__isnull=True).update(team_lead=lead)
    return agents, lead
