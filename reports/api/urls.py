"""Registers this app's API viewsets on the shared router (portal.api.router)."""

# Rankings and published rankings (reports/api/rankings.py).
from portal.api import router
from reports.api.rankings import (
    PublishedRankingViewSet,
    RankingViewSet,
    TerritorySummaryViewSet,
)

router.register("rankings", RankingViewSet, basename="ranking")
router.register("published-rankings", PublishedRankingViewSet, basename="published-ranking")
router.register("summaries", TerritorySummaryViewSet, basename="summary")

# The Table-1 workflow: reports with their actions (reports/api/workflow.py), values with a
# bulk upsert (reports/api/values.py).
from reports.api.values import ValueViewSet  # noqa: E402
from reports.api.workflow import ReportViewSet  # noqa: E402

router.register("reports", ReportViewSet, basename="report")
router.register("report-values", ValueViewSet, basename="report-value")

# Every import through the API (reports/api/imports.py).
from reports.api.imports import ImportViewSet  # noqa: E402

router.register("imports", ImportViewSet, basename="import")

# Completeness and timeliness (reports/api/completeness.py).
from reports.api.completeness import CompletenessViewSet  # noqa: E402

router.register("completeness", CompletenessViewSet, basename="completeness")
