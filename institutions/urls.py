from django.urls import path

from institutions import views

urlpatterns = [
    path("registry/", views.registry, name="registry"),
    path("registry/<int:pk>/", views.institution_detail, name="institution-detail"),
    path("registry/import/", views.registry_import_upload, name="registry-import"),
    path("registry/import/apply/", views.registry_import_apply, name="registry-import-apply"),
]
