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

# The Table-1 workflow: reports with their actions, values with a bulk upsert
# (reports/api/workflow.py).
from reports.api.workflow import ReportViewSet, ValueViewSet  # noqa: E402

router.register("reports", ReportViewSet, basename="report")
router.register("report-values", ValueViewSet, basename="report-value")
