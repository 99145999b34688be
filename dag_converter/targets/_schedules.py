"""Schedule strings checked field by field: Airflow cron with croniter, EventBridge `cron()`/`rate()`.

Airflow validates a cron schedule with croniter (airflow/timetables/_cron.py, `CronMixin.validate`:
`croniter(self._expression)` raising AirflowTimetableInvalid), so the same library decides here
whether a five-field expression is valid, and whether it ever fires. MWAA Serverless also accepts
EventBridge's forms (botocore mwaa-serverless model, ScheduleConfiguration.CronExpression: "rate(5
minutes)", "cron(0 12 * * ? *)", "specify either a day-of-month or a day-of-week, not both"),
checked here against the EventBridge Scheduler rules for each field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Final

_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_RATE: Final = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_EVENTBRIDGE_CRON: Final = re.compile(r"^cron\((.*)\)$")


def cron_problem(expression: str, today: date) -> str | None:
    """Why a five-field Airflow cron expression cannot run, or None when it can."""
    from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

    if len(expression.split()) != 5:
        return "not a 5-field cron expression"
    try:
        schedule = croniter(expression, datetime(today.year, today.month, today.day))
    except (CroniterBadCronError, CroniterError, ValueError, KeyError) as exc:
        return f"not a valid cron expression ({exc})"
    try:
        schedule.get_next(datetime)
    except CroniterBadDateError:
        return "it never fires (no date matches every field)"
    return None


def rate_problem(expression: str) -> str | None:
    """Why an EventBridge `rate(value unit)` is not valid, or None."""
    match = _RATE.match(expression)
    if match is None:
        return "a rate is 'rate(N minutes|hours|days)'"
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        return "the rate's value must be a positive whole number"
    if (value == 1) != (not unit.endswith("s")):
        return f"write 'rate({value} {unit.rstrip('s') if value == 1 else unit + 's'})'"
    return None


def _value(token: str, low: int, high: int, names: tuple[str, ...], name_base: int) -> bool:
    if token.isdigit():
        return low <= int(token) <= high
    return token.upper() in names and low <= names.index(token.upper()) + name_base <= high


def _field_ok(text: str, low: int, high: int, *, names: tuple[str, ...] = (), name_base: int = 0,
              question: bool = False, dom: bool = False, dow: bool = False) -> bool:
    if text == "?":
        return question
    for item in text.split(","):
        if dom and (item in ("L", "LW") or re.fullmatch(r"\d{1,2}W", item) and _value(item[:-1], low, high, (), 0)):
            continue
        if dow and (item == "L" or re.fullmatch(r"\w+L", item) and _value(item[:-1], low, high, names, name_base)):
            continue
        if dow and "#" in item:
            day, _, nth = item.partition("#")
            if _value(day, low, high, names, name_base) and nth.isdigit() and 1 <= int(nth) <= 5:
                continue
            return False
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and int(step) >= 1):
            return False
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        if not _value(first, low, high, names, name_base):
            return False
        if dash and not _value(last, low, high, names, name_base):
            return False
    return True


def eventbridge_cron_problem(expression: str) -> str | None:
    """Why an EventBridge `cron(minutes hours day-of-month month day-of-week year)` is not valid, or None."""
    match = _EVENTBRIDGE_CRON.match(expression)
    fields = match.group(1).split() if match else []
    if len(fields) != 6:
        return "an EventBridge cron has 6 fields: cron(minutes hours day-of-month month day-of-week year)"
    minutes, hours, dom, month, dow, year = fields
    checks = (
        ("minutes", _field_ok(minutes, 0, 59)),
        ("hours", _field_ok(hours, 0, 23)),
        ("day-of-month", _field_ok(dom, 1, 31, question=True, dom=True)),
        ("month", _field_ok(month, 1, 12, names=_MONTHS, name_base=1)),
        ("day-of-week", _field_ok(dow, 1, 7, names=_DAYS, name_base=1, question=True, dow=True)),
        ("year", _field_ok(year, 1970, 2199)),
    )
    for name, ok in checks:
        if not ok:
            return f"its {name} field {fields[[c[0] for c in checks].index(name)]!r} is not valid"
    if (dom == "?") == (dow == "?"):
        return "give either a day-of-month or a day-of-week and '?' in the other, not both"
    return None


__all__ = ["cron_problem", "eventbridge_cron_problem", "rate_problem"]
