"""The answers of the rankings and summaries API as typed schemas (for generated clients).

Only documentation: the views build their JSON directly (rankings stream rows the database
wrote); these serializers say what that JSON holds, field by field, and which fields may be null.
"""

from __future__ import annotations

from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from metrics.choices import Indicator
from reports.exports.xlsx import XLSX_CONTENT_TYPE


def _nullable_int(help_text: str = "") -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, required=False, help_text=help_text)


class RankingRowSchema(serializers.Serializer):
    """One community of a ranking; metric-specific fields appear only for their metrics."""

    place = serializers.IntegerField(allow_null=True)
    league_place = serializers.IntegerField(allow_null=True)
    league = serializers.CharField(allow_null=True)
    community_id = serializers.IntegerField()
    community = serializers.CharField()
    network = serializers.CharField()
    url = serializers.CharField()
    state = serializers.CharField()
    institution_id = serializers.IntegerField()
    institution = serializers.CharField()
    institution_type = serializers.CharField()
    subordination = serializers.CharField()
    territory_id = serializers.IntegerField()
    territory = serializers.CharField()
    members = serializers.IntegerField(allow_null=True)
    members_date = serializers.DateField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    start_members = _nullable_int("участников на начало периода (метрики прироста)")
    start_date = serializers.DateField(allow_null=True, required=False)
    growth = _nullable_int("прирост участников")
    growth_pct = serializers.FloatField(allow_null=True, required=False)
    t1_members = _nullable_int("участников по Таблице 1")
    t1_members_month = serializers.DateField(allow_null=True, required=False)
    visits = _nullable_int()
    unique_visitors = _nullable_int()
    wall_views = _nullable_int()
    feedback = _nullable_int()
    posts = _nullable_int()
    likes = _nullable_int()
    reposts = _nullable_int()
    comments = _nullable_int()
    views = _nullable_int()
    reach = _nullable_int()
    interactions = _nullable_int("отметки + репосты + комментарии")
    days = _nullable_int("дней в периоде (ER по дням)")
    reason = serializers.CharField(required=False, help_text="почему показателя нет "
                                                            "(строки missing)")


class RankingParamsSchema(serializers.Serializer):
    metric = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    territory = serializers.IntegerField(allow_null=True)
    institution_type = serializers.CharField(allow_null=True)
    network = serializers.CharField(allow_null=True)
    subordination = serializers.CharField(allow_null=True)
    flagship_only = serializers.BooleanField()
    league = serializers.CharField(allow_null=True)
    top = serializers.IntegerField(allow_null=True)


class LeagueSchema(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    min = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)


class RankingMetricSchema(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    formula = serializers.CharField()
    decimals = serializers.IntegerField()
    unit = serializers.CharField()
    interactions = serializers.CharField()
    ranking_method = serializers.CharField()
    leagues = LeagueSchema(many=True)


class RankingSchema(serializers.Serializer):
    params = RankingParamsSchema()
    metric = RankingMetricSchema()
    notes = serializers.ListField(child=serializers.CharField())
    scope = serializers.CharField(
        allow_null=True, help_text="Среди чьих сообществ считаются места, если не всего региона "
        "(территории муниципального отдела, учреждения редактора); null — весь регион")
    data_as_of = serializers.DateField(allow_null=True)
    count = serializers.IntegerField()
    results = RankingRowSchema(many=True)
    missing = RankingRowSchema(many=True)


class RankingWhySchema(serializers.Serializer):
    """Why a community has its place: its neighbours and what the next place or league takes."""

    params = RankingParamsSchema()
    metric = RankingMetricSchema()
    row = RankingRowSchema(allow_null=True)
    above = RankingRowSchema(many=True)
    below = RankingRowSchema(many=True)
    to_next_place = serializers.FloatField(allow_null=True)
    members_to_next_place = serializers.IntegerField(allow_null=True)
    next_league = serializers.CharField(allow_null=True)
    members_to_next_league = serializers.IntegerField(allow_null=True)


def _figures() -> serializers.DictField:
    return serializers.DictField(child=serializers.IntegerField(allow_null=True),
                                 help_text="показатель → значение: " + ", ".join(Indicator.values))


class SummaryCommunitySchema(serializers.Serializer):
    community_id = serializers.IntegerField()
    community = serializers.CharField()
    network = serializers.CharField()
    url = serializers.CharField()
    state = serializers.CharField()
    figures = _figures()
    members_start = serializers.IntegerField(allow_null=True)
    members_end = serializers.IntegerField(allow_null=True)
    growth = serializers.IntegerField(allow_null=True)


class SummaryInstitutionSchema(serializers.Serializer):
    institution_id = serializers.IntegerField()
    institution = serializers.CharField()
    type = serializers.CharField()
    totals = _figures()
    growth = serializers.IntegerField(allow_null=True)
    reports_sent = serializers.IntegerField()
    completeness_pct = serializers.FloatField()
    communities = SummaryCommunitySchema(many=True)


class TerritorySummarySchema(serializers.Serializer):
    territory_id = serializers.IntegerField()
    territory = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    months = serializers.ListField(child=serializers.DateField())
    notes = serializers.ListField(child=serializers.CharField())
    totals = _figures()
    averages = serializers.DictField(child=serializers.FloatField(allow_null=True))
    reports_sent = serializers.IntegerField()
    reports_expected = serializers.IntegerField()
    completeness_pct = serializers.FloatField()
    institutions = SummaryInstitutionSchema(many=True)


# The list actions answer one object each (params and rows; a territory's summary), not arrays.
set_override(RankingSchema, "many", False)
set_override(TerritorySummarySchema, "many", False)


def files_only(*, csv: bool = True) -> dict:
    """A 200 answer that is a file: XLSX, or CSV with ``?format=csv``."""
    responses = {(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY}
    if csv:
        responses[(200, "text/csv")] = OpenApiTypes.BINARY
    return responses


def with_files(json_schema: type, *, csv: bool = True) -> dict:
    """A 200 answer as JSON, or as a CSV or XLSX file (``?format=csv|xlsx``)."""
    responses = {(200, "application/json"): json_schema,
                 (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY}
    if csv:
        responses[(200, "text/csv")] = OpenApiTypes.BINARY
    return responses
