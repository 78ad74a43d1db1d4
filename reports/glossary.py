"""The definitions every figure follows, word for word in each report's glossary."""

GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "SLA achievement",
        "SLA achievement = achieved ÷ (achieved + breached), per deadline date; an item still open past its "
        "deadline counts as breached; one still open inside its deadline is left out.",
    ),
    ("At risk", "At risk = open with more than 75 % of its target elapsed."),
    (
        "First response",
        "First response = from the user's first inbound message to the first public human reply (automatic "
        "replies do not count); report median and p90 beside the average.",
    ),
    (
        "DAU, WAU, MAU, stickiness",
        "DAU = distinct active users per day; WAU and MAU = distinct users over the trailing 7 and 30 days ending "
        "on each day; stickiness = DAU ÷ MAU.",
    ),
    (
        "Retention",
        'Retention: N-week cohorts by sign-up week, both "returned in week N" and "returned in week N or later".',
    ),
    ("Churn", "Churn(P) = users active in P−1 and not in P ÷ users active in P−1."),
    ("CSAT", "CSAT = ratings of 4–5 ÷ all ratings (1–5 scale), with the average and the response count."),
    ("NPS", "NPS = % of 9–10 minus % of 0–6, with the response count."),
)
