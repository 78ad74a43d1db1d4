"""The metrics API for managers' BI tools: the figures of the report sections for any period, the live compliance
of every promise, and the report runs (listed, or asked for). The same builders as the pages and the PDF."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from messaging.models import Category as MessageCategory
from moderation.models import Reason
from moderation.registry import moderatable_kinds
from saypro import periods
from saypro.figures.registry import figure_spec, figure_specs, figures_read
from saypro.figures.targets import TargetBook
from saypro.localtime import DAYS_AHEAD, EARLIEST_DAY, validate_day
from saypro.permissions import has_perm
from support.models import Channel, Priority
from support.selectors import department_slugs

from . import selectors, services
from .figures import FIGURE_FILTERS, figure_dict
from .models import ReportKind, ReportRun
from .sections import build_sections, context_for, specs

CanReadMetrics = has_perm("reports.view_metrics")


_DAY_BOUNDS = f" From {EARLIEST_DAY.isoformat()} to {DAYS_AHEAD} days after today."


# The filters whose values are a fixed list.
CLOSED_FILTERS = ("category", "channel", "priority", "reason", "content_type")


class PeriodQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=periods.KINDS, default=periods.MONTH)
    day = serializers.DateField(
        required=False,
        validators=[validate_day],
        help_text=f"A day of the week, month or quarter (default: today).{_DAY_BOUNDS}",
    )
    start = serializers.DateField(
        required=False, validators=[validate_day], help_text=f"First day of a custom range.{_DAY_BOUNDS}"
    )
    end = serializers.DateField(
        required=False, validators=[validate_day], help_text=f"Last day of a custom range.{_DAY_BOUNDS}"
    )
    section = serializers.ChoiceField(choices=[], required=False, help_text="Only this section.")
    # The documents' custom reports: the registry's figures that have the dimension are read for these values only.
    # A value outside a filter's choices is refused (a misspelt channel would otherwise read as a quiet period).
    category = serializers.ChoiceField(
        choices=MessageCategory.choices, required=False, allow_blank=True, help_text="Inquiry type."
    )
    ad_category = serializers.CharField(required=False, max_length=60, help_text="The ad's marketplace category.")
    region = serializers.CharField(required=False, max_length=100, help_text="The user's region.")
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, allow_blank=True, help_text="Support channel."
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, allow_blank=True, help_text="Ticket priority."
    )
    department = serializers.SlugField(
        required=False, allow_blank=True, max_length=40, help_text="Support department (its slug)."
    )
    reason = serializers.ChoiceField(choices=Reason.choices, required=False, allow_blank=True, help_text="Flag reason.")
    content_type = serializers.ChoiceField(
        choices=[], required=False, allow_blank=True, help_text="What was flagged: listing, message, profile, …"
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Sections and moderated kinds register at start-up: the choices are read when the serializer is made.
        self.fields["section"].choices = [s.key for s in specs()]  # type: ignore[attr-defined]
        self.fields["content_type"].choices = [m.kind for m in moderatable_kinds()]  # type: ignore[attr-defined]
        for name in CLOSED_FILTERS:
            field = self.fields[name]
            values = ", ".join(str(value) for value in field.choices)  # type: ignore[attr-defined]
            field.error_messages["invalid_choice"] = f'"{{input}}" is not one of: {values}.'

    def validate_department(self, value: str) -> str:
        if value:
            known = department_slugs()
            if value not in known:
                raise serializers.ValidationError(
                    f"No support department has that slug: choose one of {', '.join(known)}."
                )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A misspelt filter (?chanel=chat) must not read as the figures for every channel.
        unknown = sorted(set(self.initial_data) - set(self.fields) - {api_settings.URL_FORMAT_OVERRIDE})
        if unknown:
            known = ", ".join(self.fields)
            raise serializers.ValidationError({name: [f"Not a parameter here: use {known}."] for name in unknown})
        if attrs["period"] == periods.CUSTOM:
            if not attrs.get("start") or not attrs.get("end"):
                raise serializers.ValidationError({"start": ["A custom range needs start and end."]})
            try:
                attrs["chosen"] = periods.custom(attrs["start"], attrs["end"])
            except ValueError as exc:
                raise serializers.ValidationError({"end": [str(exc)]}) from None
        else:
            attrs["chosen"] = periods.containing(attrs["period"], attrs.get("day") or periods.today())
        attrs["filters"] = {name: attrs[name] for name in FIGURE_FILTERS if attrs.get(name)}
        return attrs


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField()
    slug = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive.")


class FigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    value = serializers.FloatField(allow_null=True)
    unit = serializers.CharField()
    previous = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    target_text = serializers.CharField()
    met = serializers.BooleanField(allow_null=True)
    note = serializers.CharField()
    n = serializers.IntegerField(allow_null=True, help_text="The number of items the value was computed from.")
    pending = serializers.IntegerField(allow_null=True, help_text="Items still inside their deadline.")
    to_date = serializers.BooleanField(help_text="The period still runs: the value covers it up to now.")
    not_split_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="The filters asked for that this figure cannot be split by: its value covers everything.",
    )


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()))


class SectionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    available = serializers.BooleanField()
    figures = FigureSerializer(many=True)
    tables = TableSerializer(many=True)


class MetricsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous = PeriodSerializer()
    sections = SectionSerializer(many=True)


def _period(p: periods.Period) -> dict[str, Any]:
    return {"kind": p.kind, "slug": p.slug, "label": p.label, "start": p.start, "end": p.end}


class MetricsView(APIView):
    permission_classes = [CanReadMetrics]

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses=MetricsSerializer,
        summary="Report figures for a period",
        description="Every figure of the report sections (value, previous period, change, target, met) for a week, "
        "month, quarter or custom range of local days. A parameter not listed here is refused (400), so that a "
        "misspelt filter is not read as none.",
    )
    def get(self, request: Request) -> Response:
        query = PeriodQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ctx = context_for(query.validated_data["chosen"], filters=query.validated_data["filters"])
        sections = [
            {
                "key": s.key,
                "title": s.title,
                "available": s.available,
                "figures": [f.as_dict() for f in s.figures],
                "tables": s.tables,
            }
            for s in build_sections(ctx, key=query.validated_data.get("section"))
        ]
        body = {"period": _period(ctx.period), "previous": _period(ctx.previous), "sections": sections}
        return Response(MetricsSerializer(body).data)


class FiguresQuerySerializer(PeriodQuerySerializer):
    area = serializers.ChoiceField(choices=[], required=False, help_text="Only this area's figures.")
    key = serializers.ChoiceField(choices=[], required=False, help_text="Only this figure.")
    quarters = serializers.BooleanField(
        default=False, help_text="Add the quarter containing the period and the three before it."
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Figures register at start-up: the choices are read when the serializer is made.
        self.fields["area"].choices = sorted({f.area for f in figure_specs()})  # type: ignore[attr-defined]
        self.fields["key"].choices = [f.key for f in figure_specs()]  # type: ignore[attr-defined]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("key"):
            spec = figure_spec(attrs["key"])
            unknown = sorted(set(attrs["filters"]) - set(spec.dimensions))
            if unknown:
                allowed = ", ".join(spec.dimensions) or "none"
                raise serializers.ValidationError(
                    {name: [f"{spec.label} cannot be split by {name} (dimensions: {allowed})."] for name in unknown}
                )
        return attrs


class ReadingSerializer(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive; now for a period still running.")
    to_date = serializers.BooleanField()
    value = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(help_text="The number of items the value was computed from.")
    pending = serializers.IntegerField(help_text="Items of the period still inside their deadline.")
    parts = serializers.DictField(child=serializers.FloatField())
    target = serializers.FloatField(allow_null=True, help_text="The target in force for that period.")
    target_text = serializers.CharField()
    met = serializers.BooleanField(allow_null=True)
    band = serializers.CharField(help_text="below, within or above a target band; blank without one.")


class RegisteredFigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    unit = serializers.CharField()
    area = serializers.CharField()
    definition = serializers.CharField()
    population = serializers.CharField()
    placed_by = serializers.CharField()
    direction = serializers.CharField()
    dimensions = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.source
    current = ReadingSerializer()
    previous = ReadingSerializer(allow_null=True)
    change = serializers.FloatField(allow_null=True)
    quarters = ReadingSerializer(many=True)


class FiguresSerializer(serializers.Serializer):
    period = PeriodSerializer()
    filters = serializers.DictField(child=serializers.CharField())
    figures = RegisteredFigureSerializer(many=True)


class FiguresView(APIView):
    permission_classes = [CanReadMetrics]

    @extend_schema(
        parameters=[FiguresQuerySerializer],
        responses=FiguresSerializer,
        summary="Registered figures for a period",
        description="Every registered figure (or one area's, or one) for a week, month, quarter or custom range: "
        "its definition, the value with its sample size (n) and pending items, the period before over the same "
        "elapsed span, the target in force, and optionally the last four quarters. Filters by inquiry type, ad "
        "category, region, channel, priority or flag reason apply to the figures that have the dimension; a parameter "
        "not listed here is refused (400).",
    )
    def get(self, request: Request) -> Response:
        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        period = data["chosen"]
        keys = [data["key"]] if data.get("key") else [f.key for f in figure_specs(data.get("area"))]
        readings = figures_read(keys, period, now=timezone.now(), filters=data["filters"], quarters=data["quarters"])
        body = {"period": _period(period), "filters": data["filters"], "figures": [figure_dict(r) for r in readings]}
        return Response(FiguresSerializer(body).data)


class AchievementSerializer(serializers.Serializer):
    achieved = serializers.IntegerField()
    breached = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="Percent; null when no deadline fell in the period.")


class ComplianceSerializer(serializers.Serializer):
    metric = serializers.CharField()
    title = serializers.CharField()
    target = serializers.FloatField(allow_null=True, help_text="Percent; the target in force this quarter.")
    week = AchievementSerializer()
    month = AchievementSerializer()
    quarter = AchievementSerializer()
    open = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    breached = serializers.IntegerField()


class ComplianceView(APIView):
    permission_classes = [CanReadMetrics]

    @extend_schema(responses=ComplianceSerializer(many=True), summary="Live compliance of every promise")
    def get(self, request: Request) -> Response:
        def ach(a: selectors.Achievement) -> dict[str, Any]:
            return {"achieved": a.achieved, "breached": a.breached, "rate": a.percent}

        now = timezone.now()
        targets = TargetBook()
        rows = [
            {
                "metric": t.promise.metric,
                "title": t.promise.title,
                "target": targets.value(t.promise.target_key, periods.today(now)),
                "week": ach(t.week),
                "month": ach(t.month),
                "quarter": ach(t.quarter),
                "open": t.open,
                "at_risk": t.at_risk,
                "breached": t.breached_open,
            }
            for t in selectors.promise_tiles(user=request.user, now=now)
        ]
        return Response(ComplianceSerializer(rows, many=True).data)


class ReportRunSerializer(serializers.ModelSerializer):
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "kind",
            "period_slug",
            "filters",
            "period_start",
            "period_end",
            "status",
            "progress",
            "scheduled",
            "requested_at",
            "finished_at",
            "generations",
            "pdf_sha256",
            "xlsx_sha256",
            "csv_sha256",
            "downloads",
        ]

    def get_downloads(self, run: ReportRun) -> dict[str, str]:
        if not run.pdf:
            return {}
        return {fmt: reverse("dashboard:report-download", args=[run.pk, fmt]) for fmt in ("pdf", "xlsx", "csv")}


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    day = serializers.DateField(validators=[validate_day], help_text=f"Any day of the period.{_DAY_BOUNDS}")
    # The documents' custom reports; the service checks the values (reports.services.report_filters_clean).
    category = serializers.CharField(required=False, allow_blank=True, help_text="Inquiry type (messaging category).")
    ad_category = serializers.CharField(required=False, allow_blank=True, help_text="The ad's marketplace category.")
    region = serializers.CharField(required=False, allow_blank=True, help_text="The user's region.")


class ReportRunList(generics.ListAPIView):
    """The stored runs; a POST asks for one (generated in the background), optionally narrowed by filters."""

    serializer_class = ReportRunSerializer
    queryset = ReportRun.objects.order_by("-id")

    def get_permissions(self) -> list[Any]:
        perm = "reports.generate_report" if self.request.method == "POST" else "reports.view_metrics"
        return [has_perm(perm)()]

    @extend_schema(summary="Stored report runs")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ReportRequestSerializer,
        responses={201: ReportRunSerializer},
        summary="Generate a report",
        description="Queue the weekly, monthly or quarterly report of the period containing `day`, narrowed to an "
        "inquiry type, ad category or region if given. The run is generated in the background; the figures that "
        "cannot be split by a filter say so in every format.",
    )
    def post(self, request: Request) -> Response:
        query = ReportRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        period = services.report_period(kind=data["kind"], day=data["day"])
        filters = {name: data[name] for name in services.REPORT_FILTERS if data.get(name)}
        run = services.report_request(kind=data["kind"], period=period, by=request.user, filters=filters)
        return Response(ReportRunSerializer(run).data, status=201)
