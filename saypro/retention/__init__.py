"""Personal data kept only as long as it is needed.

Each app declares the kinds of personal data it holds and how to purge one batch of what has expired (delete it, or
anonymise it where the rest of the row still counts in reports); administrators set each kind's period; a daily task
purges in batches and records the counts, never the contents, in the audit trail.
"""
