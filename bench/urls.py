"""The portal's URLs plus the bare baseline views the benchmarks compare it with."""

from django.urls import path

from bench.views import bare_values
from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [*portal_urlpatterns, path("bench/bare-values/", bare_values)]
