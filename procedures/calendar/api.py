"""Public, read-only access to the working-time calendar (docs/legal-rules.md: "Due time",
"Working time, holidays and overrides").

Applicants and partner systems use it to check the appointment on their receipt;
the arithmetic lives in `procedures.calendar.working_time`, these views only validate and format.
"""

import re
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from procedures.calendar import working_time as calendar
from procedures.core.constants import TimeUnit

# Longest processing time the endpoint computes. Published procedures stay far below
# it; the cap keeps one request from walking decades of calendar years.
MAX_AMOUNT = Decimal("1000")


_SPACE_FOR_PLUS = re.compile(r"^(.*T[0-9:.]+) ([0-9]{2}(?::?[0-9]{2})?)$")


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry its UTC offset."""

    default_error_messages = {
        "naive": _(
            "Include the UTC offset, e.g. 2026-02-13T10:00:00+07:00: "
            "a time without it is ambiguous."
        ),
        "range": _("This time is outside the range of dates the calendar can count."),
    }

    def to_internal_value(self, value):
        # An unencoded "+07:00" in a query string arrives as " 07:00" (a "+" is a
        # space in URL-encoded forms); restore it instead of rejecting a common typo.
        if isinstance(value, str):
            value = _SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
        return super().to_internal_value(value)

    def enforce_timezone(self, value):
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        try:
            return value.astimezone(calendar.LOCAL_TZ)
        except OverflowError:  # 9999-12-31T23:00Z is already year 10000 in Vietnam
            self.fail("range")


class DueQuerySerializer(serializers.Serializer):
    start = AwareDateTimeField(
        help_text=_("Acceptance time, ISO 8601 with UTC offset, e.g. 2026-02-13T10:00:00+07:00.")
    )
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=6,
        min_value=Decimal("0"),
        max_value=MAX_AMOUNT,
        help_text=_("Processing time in `unit`; halves allowed for working days, e.g. 0.5."),
    )
    unit = serializers.ChoiceField(choices=TimeUnit.choices, help_text=_("Unit of `amount`."))

    def validate_start(self, value):
        if not calendar.MIN_YEAR <= value.year <= calendar.MAX_YEAR:
            raise ValidationError(
                _("The working-time calendar covers the years %(first)d to %(last)d only.")
                % {"first": calendar.MIN_YEAR, "last": calendar.MAX_YEAR}
            )
        return value

    def validate(self, attrs):
        amount = attrs["amount"]
        if attrs["unit"] == TimeUnit.CALENDAR_DAYS and amount != amount.to_integral_value():
            raise ValidationError({"amount": [_("Calendar days must be a whole number.")]})
        return attrs


class DueSerializer(serializers.Serializer):
    start = serializers.DateTimeField(
        help_text=_("The start moved to the next working moment, in +07:00.")
    )
    amount = serializers.DecimalField(max_digits=12, decimal_places=6)
    unit = serializers.ChoiceField(choices=TimeUnit.choices)
    due = serializers.DateTimeField(help_text=_("Due time, ISO 8601 in +07:00."))
    working_seconds = serializers.IntegerField(
        help_text=_("Working seconds between the normalised start and the due time.")
    )


class DayExceptionSerializer(serializers.Serializer):
    date = serializers.DateField()
    is_working = serializers.BooleanField()
    reason = serializers.CharField()
    source = serializers.ChoiceField(
        choices=[calendar.SOURCE_HOLIDAYS, calendar.SOURCE_OVERRIDE],
        help_text=_(
            "`holidays`: the public-holiday data; `override`: a decision of the department."
        ),
    )


def _iso(value) -> str:
    return value.astimezone(calendar.LOCAL_TZ).isoformat()


def _plain(value: Decimal) -> str:
    # "1.500000" -> "1.5", "10.000000" -> "10" (normalize() alone would give "1E+1").
    return format(value.normalize(), "f")


class DueView(APIView):
    # Public and read-only: no user is needed, so no session or token is looked up.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary=_("Due time of a processing time"),
        parameters=[DueQuerySerializer],
        responses={
            200: DueSerializer,
            400: OpenApiResponse(description=_("A parameter is missing or invalid.")),
        },
    )
    def get(self, request):
        query = DueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, amount, unit = (query.validated_data[k] for k in ("start", "amount", "unit"))
        try:
            normalised = calendar.next_working_moment(start)
            due = calendar.add_time(start, amount, unit)
        except calendar.CalendarRangeError as exc:
            raise ValidationError({"amount": [str(exc)]}) from exc
        return Response(
            {
                "start": _iso(normalised),
                "amount": _plain(amount),
                "unit": unit,
                "due": _iso(due),
                "working_seconds": calendar.working_seconds_between(normalised, due),
            }
        )


class YearView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary=_("Non-working weekdays and working weekend days of a year"),
        parameters=[
            OpenApiParameter(
                "year",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description=_("Calendar year, e.g. 2026."),
            )
        ],
        responses={
            200: DayExceptionSerializer(many=True),
            400: OpenApiResponse(description=_("The year is outside the calendar's range.")),
        },
    )
    def get(self, request, year: int):
        if not calendar.MIN_YEAR <= year <= calendar.MAX_YEAR:
            raise ValidationError(
                {
                    "year": [
                        _("The working-time calendar covers the years %(first)d to %(last)d only.")
                        % {"first": calendar.MIN_YEAR, "last": calendar.MAX_YEAR}
                    ]
                }
            )
        days = calendar.year_exceptions(year)
        return Response(DayExceptionSerializer(days, many=True).data)
