from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# Importing these modules registers each app's viewsets on the shared router.
import institutions.api.urls  # noqa: F401
import metrics.api.urls  # noqa: F401
import reports.api.urls  # noqa: F401
from portal.api import router
from portal.views import healthz
from reports.views.home import home

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script under the CSP.
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    path("api/v1/", include(router.urls)),
    # «Мои задачи» needs every app's facts, so the top layer serves it.
    path("", home, name="home"),
    path("", include("institutions.urls")),
    path("", include("metrics.urls")),
    path("", include("reports.urls")),
]

# JSON errors under /api/, the plain Russian pages (templates/404.html, 500.html) elsewhere.
handler400 = "portal.errors.bad_request"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
