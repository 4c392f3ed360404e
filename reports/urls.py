from django.urls import path

from reports.views import bulk, completeness, past_data, table1_files, workflow
from reports.views import exports as export_views
from reports.views import quality as quality_views
from reports.views import rankings as ranking_views
from reports.views import summaries as summary_views

app_name = "reports"
urlpatterns: list = []

# The Table-1 workflow (reports/views/workflow.py, table1_files.py, completeness.py).
urlpatterns += [
    path("reports/", workflow.reports_index, name="list"),
    path("reports/bulk/", bulk.reports_bulk, name="bulk"),
    path("reports/<int:institution_id>/<str:month>/", workflow.report_detail, name="report"),
    path("reports/action/<int:pk>/<str:action>/", workflow.report_action, name="action"),
    path("table1/", workflow.entry_index, name="entry-index"),
    path("table1/<int:institution_id>/<int:year>/", workflow.entry, name="entry"),
    path("values/<int:pk>/history/", workflow.value_history_page, name="value-history"),
    path("table1/<int:institution_id>/<int:year>/xlsx/", table1_files.download,
         name="download"),
    path("table1/upload/", table1_files.upload, name="upload"),
    path("past-data/", past_data.past_data, name="past-data"),
    path("completeness/", completeness.completeness, name="completeness"),
    path("completeness/export.xlsx", completeness.completeness_export,
         name="completeness-export"),
]

# Rankings, published rankings, audience charts (reports/views/rankings.py).
urlpatterns += [
    path("rankings/", ranking_views.ranking_page, name="rankings"),
    path("rankings/export.<str:fmt>", ranking_views.ranking_export, name="ranking-export"),
    path("rankings/why/<int:community_id>/", ranking_views.why_page, name="ranking-why"),
    path("rankings/why/institution/<int:institution_id>/", ranking_views.why_institution_page,
         name="ranking-why-institution"),
    path("rankings/publish/", ranking_views.publish, name="ranking-publish"),
    path("rankings/p/", ranking_views.published_list, name="published-list"),
    path("rankings/p/<slug:slug>/", ranking_views.published_latest, name="published-latest"),
    path("rankings/p/<slug:slug>/v<int:number>/", ranking_views.published_version,
         name="published-version"),
    path("rankings/p/<slug:slug>/v<int:number>/export.<str:fmt>",
         ranking_views.published_export, name="published-export"),
    path("charts/audience/", ranking_views.audience_chart, name="audience-chart"),
]

# Territory summaries (reports/views/summaries.py), background exports and the registry
# workbook (reports/views/exports.py).
urlpatterns += [
    path("summaries/", summary_views.summary_page, name="summary"),
    path("summaries/export.xlsx", summary_views.summary_export, name="summary-export"),
    path("exports/", export_views.export_list, name="exports"),
    path("exports/registry.xlsx", export_views.registry_export, name="registry-export"),
    path("exports/summaries/", export_views.export_start_summaries,
         name="export-start-summaries"),
    path("exports/ranking/", export_views.export_start_ranking, name="export-start-ranking"),
    path("exports/<int:pk>/", export_views.export_detail, name="export-detail"),
    path("exports/<int:pk>/status/", export_views.export_status, name="export-status"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export-download"),
]

# The quality index: ranking, publishing, a community's page, methodology, formats
# (reports/views/quality.py).
urlpatterns += [
    path("quality/", quality_views.quality_ranking_page, name="quality"),
    path("quality/publish/", quality_views.quality_publish_view, name="quality-publish"),
    path("quality/p/<int:number>/", quality_views.quality_published, name="quality-published"),
    path("quality/community/<int:pk>/", quality_views.quality_community,
         name="quality-community"),
    path("quality/community/<int:pk>/category/", quality_views.community_category,
         name="quality-community-category"),
    path("quality/methodology/", quality_views.methodology_page, name="quality-methodology"),
    path("quality/formats/", quality_views.formats_page, name="quality-formats"),
    path("quality/norms/", quality_views.norms_page, name="quality-norms"),
]
