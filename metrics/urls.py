from django.urls import path

from metrics import views, views_connect

app_name = "metrics"
urlpatterns = [
    path("collection/", views.runs, name="collection-runs"),
    path("collection/start/", views.start, name="collection-start"),
    path("collection/runs/<int:pk>/", views.run_detail, name="collection-run"),
    path("collection/runs/<int:pk>/progress/", views.run_progress_json,
         name="collection-run-progress"),
    path("collection/runs/<int:pk>/resume/", views.run_resume, name="collection-run-resume"),
    path("collection/tokens/", views.tokens, name="collection-tokens"),
    path("collection/tokens/<int:pk>/delete/", views.token_remove, name="collection-token-delete"),
    path("collection/connect/<str:network>/", views_connect.connect_start, name="connect"),
    path("collection/connect/<str:network>/done/", views_connect.connect_done,
         name="connect-done"),
    path("collection/tokens/<int:pk>/connected/", views_connect.connect_result,
         name="connect-result"),
    path("collection/coverage/", views_connect.coverage, name="coverage"),
    path("help/collection/", views.help_collection, name="help-collection"),
    path("collection/anomalies/", views.anomalies, name="anomalies"),
    path("collection/anomalies/<int:pk>/", views.anomaly_decision, name="anomaly-decision"),
]
