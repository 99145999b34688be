"""datetime, timedelta, pendulum, zoneinfo and Airflow's days_ago, as exact model values."""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Callable
from typing import Final

import libcst as cst

from dag_converter import codes
from dag_converter.analyzer.imports import Role, Symbol, role_of
from dag_converter.analyzer.interpreter import BaseLibrary
from dag_converter.analyzer.values import CallArgs, TimeZone, first_unresolved
from dag_converter.model import DateTime, Duration

_TIMEDELTA_UNITS: Final = {
    "weeks": 7 * 86400, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1,
    "milliseconds": 0.001, "microseconds": 0.000001,
}
_TIMEDELTA_ORDER: Final = ("days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks")
_DATETIME_FIELDS: Final = ("year", "month", "day", "hour", "minute", "second", "microsecond")
_UTC_BY_DEFAULT: Final = frozenset({Role.PENDULUM_DATETIME, Role.AIRFLOW_UTC_DATETIME})

Handler = Callable[["TimeLibrary", Role, list[object], dict[str, object], cst.Call], object]


class TimeLibrary(BaseLibrary):
    """Calls, attributes and arithmetic of dates, times and durations."""

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if not isinstance(func, Symbol):
            return NotImplemented
        role = role_of(func.qualname)
        handler = CALLS.get(role) if role is not None else None
        if handler is None:
            return NotImplemented
        assert role is not None
        if role is Role.NOW:
            return self.interpreter.unresolved(node, f"{func.qualname}() is the time the file is parsed, not a fixed value")
        bad = first_unresolved(call.everything())
        if bad is not None:
            return bad
        return handler(self, role, call.positional, call.keywords, node)

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, DateTime) and name in _DATETIME_FIELDS:
            return getattr(base.value, name)
        if isinstance(base, Duration):
            if name == "days":
                return int(base.seconds // 86400)
            if name == "seconds":
                return int(base.seconds % 86400)
        return NotImplemented

    def binary(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        if not (isinstance(left, (DateTime, Duration)) or isinstance(right, (DateTime, Duration))):
            return NotImplemented
        result = arithmetic(op, left, right)
        if result is None:
            return self.interpreter.unresolved(node, f"{op} of {type(left).__name__} and {type(right).__name__}")
        return result

    # -- handlers ---------------------------------------------------------------------------------

    def timedelta(self, role: Role, args: list[object], kwargs: dict[str, object], node: cst.Call) -> object:
        if role is Role.PENDULUM_DURATION and {"years", "months"} & set(kwargs):
            return self.interpreter.unresolved(node, "durations in months or years have no fixed length")
        values: dict[str, object] = dict(zip(_TIMEDELTA_ORDER, args))
        values.update(kwargs)
        total = 0.0
        for unit, amount in values.items():
            if unit not in _TIMEDELTA_UNITS or not isinstance(amount, (int, float)) or isinstance(amount, bool):
                return self.interpreter.unresolved(node, f"timedelta argument {unit}={amount!r}")
            try:
                total += amount * _TIMEDELTA_UNITS[unit]
            except OverflowError as exc:
                return self.interpreter.unresolved(node, f"timedelta: {exc}")
        # Round away float noise from milliseconds/microseconds the way timedelta does (to 1 µs).
        return Duration(round(total, 6))

    def datetime(self, role: Role, args: list[object], kwargs: dict[str, object], node: cst.Call) -> object:
        values: dict[str, object] = dict(zip(_DATETIME_FIELDS, args))
        tz: object = "UTC" if role in _UTC_BY_DEFAULT else None
        for key, value in kwargs.items():
            if key in _DATETIME_FIELDS:
                values[key] = value
            elif key in ("tz", "tzinfo"):
                tz = value
            else:
                return self.interpreter.unresolved(node, f"datetime argument {key!r}")
        if len(args) > len(_DATETIME_FIELDS):
            tz = args[len(_DATETIME_FIELDS)]
        if isinstance(tz, TimeZone):
            tz = tz.name
        elif isinstance(tz, Symbol) and role_of(tz.qualname) is Role.TIMEZONE_UTC:
            tz = "UTC"
        if tz is not None and not isinstance(tz, str):
            return self.interpreter.unresolved(node, "time zone that is not a literal zone name")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values.values()):
            return self.interpreter.unresolved(node, "datetime fields must be integers")
        try:
            moment = _dt.datetime(**values)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError) as exc:
            return self.interpreter.unresolved(node, f"datetime: {exc}")
        if isinstance(tz, str) and tz not in ("UTC", "utc", "Etc/UTC"):
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(tz)
            except Exception:  # pragma: no cover - zoneinfo raises several types for bad names
                return self.interpreter.unresolved(node, f"unknown time zone {tz!r}")
            return DateTime(moment, tz)
        return DateTime(moment, None)

    def timezone(self, role: Role, args: list[object], kwargs: dict[str, object], node: cst.Call) -> object:
        if len(args) == 1 and isinstance(args[0], str):
            return TimeZone(args[0])
        return self.interpreter.unresolved(node, "time zone from a non-literal name")

    def days_ago(self, role: Role, args: list[object], kwargs: dict[str, object], node: cst.Call) -> object:
        days = args[0] if args else kwargs.get("n")
        if not isinstance(days, int) or len(args) > 1 or set(kwargs) - {"n"}:
            return self.interpreter.unresolved(node, "days_ago() with arguments other than a day count")
        try:
            date = _dt.datetime.combine(self.interpreter.today, _dt.time()) - _dt.timedelta(days=days)
        except OverflowError as exc:
            return self.interpreter.unresolved(node, f"days_ago(): {exc}")
        self.interpreter.notes.append(codes.make(codes.RELATIVE_DATE, self.interpreter.span(node),
                                                 call=f"days_ago({days})", date=date.date().isoformat()))
        return DateTime(date, None)


#: Role -> handler of a call.
CALLS: Final[dict[Role, Handler]] = {
    Role.TIMEDELTA: TimeLibrary.timedelta,
    Role.PENDULUM_DURATION: TimeLibrary.timedelta,
    Role.DATETIME: TimeLibrary.datetime,
    Role.PENDULUM_DATETIME: TimeLibrary.datetime,
    Role.AIRFLOW_UTC_DATETIME: TimeLibrary.datetime,
    Role.DATE: TimeLibrary.datetime,
    Role.TIMEZONE: TimeLibrary.timezone,
    Role.DAYS_AGO: TimeLibrary.days_ago,
    Role.NOW: TimeLibrary.days_ago,  # answered before the table is read (see call)
}


def arithmetic(op: str, left: object, right: object) -> object | None:
    """`left op right` where one side is a DateTime or Duration; None when Python would refuse it
    or the result has no exact model value."""
    if isinstance(left, Duration) and isinstance(right, Duration):
        if op == "Add":
            return Duration(left.seconds + right.seconds)
        if op == "Subtract":
            return Duration(left.seconds - right.seconds)
        if op in ("Divide", "FloorDivide") and right.seconds:
            return left.seconds / right.seconds if op == "Divide" else left.seconds // right.seconds
    if isinstance(left, Duration) and isinstance(right, (int, float)) and not isinstance(right, bool):
        if op == "Multiply":
            return Duration(left.seconds * right)
        if op in ("Divide", "FloorDivide") and right:
            return Duration(left.seconds / right if op == "Divide" else left.seconds // right)
    if isinstance(right, Duration) and isinstance(left, (int, float)) and op == "Multiply":
        return Duration(right.seconds * left)
    try:
        if isinstance(left, DateTime) and isinstance(right, Duration) and op in ("Add", "Subtract"):
            delta = _dt.timedelta(seconds=right.seconds)
            return DateTime(left.value + delta if op == "Add" else left.value - delta, left.tz)
        if isinstance(left, Duration) and isinstance(right, DateTime) and op == "Add":
            return DateTime(right.value + _dt.timedelta(seconds=left.seconds), right.tz)
    except OverflowError:
        return None
    if isinstance(left, DateTime) and isinstance(right, DateTime) and op == "Subtract" and left.tz == right.tz:
        return Duration((left.value - right.value).total_seconds())
    return None


def environment_today() -> _dt.date:
    """The date relative start dates are computed from; DAG_CONVERTER_TODAY pins it for tests."""
    pinned = os.environ.get("DAG_CONVERTER_TODAY")
    if pinned and re.fullmatch(r"\d{4}-\d{2}-\d{2}", pinned):
        return _dt.date.fromisoformat(pinned)
    return _dt.date.today()


__all__ = ["CALLS", "TimeLibrary", "arithmetic", "environment_today"]

