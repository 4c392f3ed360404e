from django.urls import path

from institutions import views, views_people, views_tokens

urlpatterns = [
    path("profile/", views_tokens.profile, name="profile"),
    path("profile/tokens/<str:prefix>/revoke/", views_tokens.token_revoke, name="token-revoke"),
    path("people/", views_people.people_list, name="people"),
    path("people/new/", views_people.person_edit, name="person-new"),
    path("people/<int:pk>/", views_people.person_edit, name="person-edit"),
    path("people/<int:pk>/deactivate/", views_people.person_deactivate_view,
         name="person-deactivate"),
    path("people/<int:pk>/invite/", views_people.person_reinvite, name="person-reinvite"),
    path("people/import/", views_people.people_import, name="people-import"),
    path("people/import/apply/", views_people.people_import_apply, name="people-import-apply"),
    path("invite/<uidb64>/<token>/", views_people.InvitationConfirmView.as_view(),
         name="invite-confirm"),
    path("invite/done/", views_people.invite_done, name="invite-done"),
    path("registry/", views.registry, name="registry"),
    path("registry/<int:pk>/", views.institution_detail, name="institution-detail"),
    path("registry/import/", views.registry_import_upload, name="registry-import"),
    path("registry/import/template.xlsx", views.registry_import_template,
         name="registry-import-template"),
    path("registry/import/apply/", views.registry_import_apply, name="registry-import-apply"),
]
