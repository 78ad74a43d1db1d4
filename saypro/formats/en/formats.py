"""The one date and time format of every page and the admin (English is the only locale).

Django's own English formats ("Dec. 6, 2026, 10:46 a.m.") would win over the settings of the same names, so the
project's formats are a locale format module. Templates name them: `|date:"DATETIME_FORMAT"`, or `|date` alone.
Times are shown in TIME_ZONE, the site's zone.
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
FIRST_DAY_OF_WEEK = 1  # Monday
