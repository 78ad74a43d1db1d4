"""The read-only metrics API for managers' BI tools: the figures of the report sections for any period, the
live compliance of every promise, and the stored report runs. The same builders as the pages and the PDF."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from saypro.localtime import DAYS_AHEAD, EARLIEST_DAY, validate_day
from saypro.permissions import has_perm

from . import periods, selectors
from .models import ReportRun
from .sections import context_for, specs

CanReadMetrics = has_perm("reports.view_metrics")


_DAY_BOUNDS = f" From {EARLIEST_DAY.isoformat()} to {DAYS_AHEAD} days after today."


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

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Sections register at start-up: the choices are read when the serializer is made, not imported.
        self.fields["section"].choices = [s.key for s in specs()]  # type: ignore[attr-defined]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["period"] == periods.CUSTOM:
            if not attrs.get("start") or not attrs.get("end"):
                raise serializers.ValidationError({"start": ["A custom range needs start and end."]})
            try:
                attrs["chosen"] = periods.custom(attrs["start"], attrs["end"])
            except ValueError as exc:
                raise serializers.ValidationError({"end": [str(exc)]}) from None
        else:
            attrs["chosen"] = periods.containing(attrs["period"], attrs.get("day") or periods.today())
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
        "month, quarter or custom range of local days.",
    )
    def get(self, request: Request) -> Response:
        query = PeriodQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ctx = context_for(query.validated_data["chosen"])
        wanted = query.validated_data.get("section")
        sections = [
            {
                "key": s.key,
                "title": s.title,
                "available": s.available,
                "figures": [f.as_dict() for f in s.figures],
                "tables": s.tables,
            }
            for spec in specs()
            if not wanted or spec.key == wanted
            for s in [spec.build(ctx)]
        ]
        body = {"period": _period(ctx.period), "previous": _period(ctx.previous), "sections": sections}
        return Response(MetricsSerializer(body).data)


class AchievementSerializer(serializers.Serializer):
    achieved = serializers.IntegerField()
    breached = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="Percent; null when no deadline fell in the period.")


class ComplianceSerializer(serializers.Serializer):
    metric = serializers.CharField()
    title = serializers.CharField()
    target = serializers.FloatField(help_text="Percent.")
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

        rows = [
            {
                "metric": t.promise.metric,
                "title": t.promise.title,
                "target": t.promise.target_rate * 100,
                "week": ach(t.week),
                "month": ach(t.month),
                "quarter": ach(t.quarter),
                "open": t.open,
                "at_risk": t.at_risk,
                "breached": t.breached_open,
            }
            for t in selectors.promise_tiles(user=request.user, now=timezone.now())
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


class ReportRunList(generics.ListAPIView):
    permission_classes = [CanReadMetrics]
    serializer_class = ReportRunSerializer
    queryset = ReportRun.objects.order_by("-id")

    @extend_schema(summary="Stored report runs")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
