from datetime import timedelta

from django.db import migrations

from accounts.roles import sync_roles

DEPARTMENTS = [
    ("accounts", "Accounts", "Sign-in, registration, profile and security."),
    ("billing", "Billing", "Payments, refunds, invoices and fees."),
    ("orders", "Orders", "Orders, delivery and shipping addresses."),
    ("feedback", "Feedback", "Complaints, reviews and suggestions."),
    ("general", "General", "Contact requests, newsletters and everything else."),
    ("technical", "Technical", "Platform faults reported from the app and the site."),
]
# (priority, first response, resolution): every tier resolved within 24 h, first answer within 3 h or faster.
TARGETS = [
    ("urgent", timedelta(hours=1), timedelta(hours=8)),
    ("high", timedelta(hours=2), timedelta(hours=16)),
    ("normal", timedelta(hours=3), timedelta(hours=24)),
    ("low", timedelta(hours=3), timedelta(hours=24)),
]
CHAT_FIRST_RESPONSE = timedelta(minutes=30)
RULES = [
    ("Platform faults", ["crash", "crashes", "crashed", "bug", "error message", "not loading", "blank page", "app freezes"],
     "technical", "", "platform_issue"),
    ("Account taken over", ["hacked", "unauthorised access", "unauthorized access", "stolen account"], "accounts",
     "urgent", "account"),
    ("Fraud and scams", ["scam", "scammer", "fraud"], None, "high", ""),
]
MACROS = [
    ("Greeting", None, True, True, "",
     "Hello {{ requester_name }},\n\nThank you for contacting SayPro. I am {{ agent_name }} and I am looking into "
     "this for you now."),
    ("Solved: anything else?", None, True, True, "solved",
     "Hello {{ requester_name }},\n\nI am glad we could sort this out. If anything else comes up, simply reply to "
     "this message.\n\nKind regards,\n{{ agent_name }}"),
    ("Password reset steps", "accounts", True, True, "",
     "Hello {{ requester_name }},\n\nTo reset your password, open {{ site_url }}/accounts/password-reset/, enter "
     "your e-mail address and follow the link we send you. The link is valid for one hour.\n\n{{ agent_name }}"),
    ("Refund timeline", "billing", True, False, "",
     "Hello {{ requester_name }},\n\nYour refund has been approved. It reaches your account within 5–7 working "
     "days, depending on your bank.\n\n{{ agent_name }}"),
    ("Ask for the order number", "orders", True, True, "pending",
     "Hello {{ requester_name }},\n\nCould you send us the order number (it starts with SP-)? Then we can check "
     "the delivery at once.\n\n{{ agent_name }}"),
    ("Known issue acknowledged", "technical", True, False, "",
     "Hello {{ requester_name }},\n\nThank you for the report. This is a known problem our engineers are "
     "fixing; we will let you know as soon as the fix is live.\n\n{{ agent_name }}"),
]
CATEGORIES = [
    ("Account and sign-in", "account", 10),
    ("Payments and refunds", "payments", 20),
    ("Buying and orders", "orders", 30),
    ("Selling and listings", "selling", 40),
    ("Safety and trust", "safety", 50),
]


def create_reference_data(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Policy = apps.get_model("sla", "Policy")
    Department = apps.get_model("support", "Department")
    SupportPolicy = apps.get_model("support", "SupportPolicy")
    SupportTarget = apps.get_model("support", "SupportTarget")
    TriageRule = apps.get_model("support", "TriageRule")
    Macro = apps.get_model("support", "Macro")
    ArticleCategory = apps.get_model("support", "ArticleCategory")

    always = Calendar.objects.get(name="24/7")
    departments = {}
    for slug, name, description in DEPARTMENTS:
        departments[slug], _ = Department.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )

    def kernel(metric, target, default=False):
        hours = target.total_seconds() / 3600
        label = f"{hours:g} h" if hours >= 1 else f"{target.total_seconds() / 60:g} min"
        what = "first response" if metric.endswith("first_response") else "resolution"
        policy, _ = Policy.objects.get_or_create(
            metric=metric,
            name=f"Ticket {what} within {label}",
            defaults={"target": target, "warn_percents": [75, 90], "calendar": always, "is_default": default},
        )
        return policy

    if SupportPolicy.objects.exists():
        return
    standard = SupportPolicy.objects.create(name="Standard", position=100)
    chat = SupportPolicy.objects.create(name="Live chat and social", position=10, channels=["chat", "social"])
    for priority, first, resolution in TARGETS:
        default = priority == "normal"
        first_policy = kernel("ticket.first_response", first, default)
        resolution_policy = kernel("ticket.resolution", resolution, default)
        SupportTarget.objects.create(
            support_policy=standard, priority=priority, first_response=first_policy, resolution=resolution_policy
        )
        SupportTarget.objects.create(
            support_policy=chat,
            priority=priority,
            first_response=kernel("ticket.first_response", min(first, CHAT_FIRST_RESPONSE)),
            resolution=resolution_policy,
        )
    for position, (name, keywords, department, priority, category) in enumerate(RULES, start=1):
        TriageRule.objects.create(
            name=name,
            position=position * 10,
            keywords=keywords,
            department=departments.get(department) if department else None,
            priority=priority,
            category=category,
        )
    for name, department, for_tickets, for_conversations, set_status, body in MACROS:
        Macro.objects.create(
            name=name,
            department=departments.get(department) if department else None,
            for_tickets=for_tickets,
            for_conversations=for_conversations,
            set_status=set_status,
            body=body,
        )
    for name, slug, position in CATEGORIES:
        ArticleCategory.objects.get_or_create(slug=slug, defaults={"name": name, "position": position})


def create_roles(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0001_initial"),
        ("sla", "0002_default_calendar"),
        ("accounts", "0002_registration_policy_and_roles"),
    ]
    operations = [
        migrations.RunPython(create_reference_data, migrations.RunPython.noop),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
