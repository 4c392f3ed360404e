from django.contrib import admin
from django.db import models, transaction
from django.utils import timezone
from rest_framework_api_key.models import APIKey
from simple_history.admin import SimpleHistoryAdmin

from institutions.history import community_history_record
from institutions.models import (
    Community,
    CommunityHistory,
    Institution,
    Territory,
    UserProfile,
    is_regional_methodologist,
)


def _admin_allowed(request) -> bool:
    """The admin is unscoped, so only the whole-region editors may enter it."""
    user = request.user
    return user.is_active and user.is_staff and is_regional_methodologist(user)


admin.site.has_permission = _admin_allowed
admin.site.site_header = "Администрирование портала госпабликов"
admin.site.site_title = "Портал госпабликов"
admin.site.index_title = "Реестр, показатели и расписание"


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "oktmo"]
    list_filter = ["kind"]
    search_fields = ["name", "oktmo"]


# Community links are https; saying so also keeps Django 6's change of default quiet.
HTTPS_LINKS = {models.URLField: {"assume_scheme": "https"}}


class CommunityInline(admin.TabularInline):
    model = Community
    extra = 0
    formfield_overrides = HTTPS_LINKS
    fields = ["network", "network_id", "screen_name", "title", "url", "is_verified", "state"]


@admin.register(Institution)
class InstitutionAdmin(SimpleHistoryAdmin):
    list_display = ["short_name", "type", "territory", "subordination", "inn", "is_active"]
    list_filter = ["type", "subordination", "is_active", "territory"]
    search_fields = ["short_name", "full_name", "inn"]
    list_select_related = ["territory"]
    inlines = [CommunityInline]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["__str__", "network", "network_id", "institution", "is_verified", "state",
                    "members_count", "category", "last_collected_at"]
    list_filter = ["network", "state", "is_verified", "category", "kind",
                   "institution__territory"]
    list_editable = ["category"]  # the methodologist assigns categories down the list
    search_fields = ["title", "screen_name", "url", "institution__short_name"]
    list_select_related = ["institution"]
    raw_id_fields = ["institution"]
    formfield_overrides = HTTPS_LINKS
    # What the networks say of how the page is kept: collected, shown, never typed in.
    readonly_fields = ["kind", "description", "site", "has_avatar", "has_cover", "wall_mode",
                       "has_addresses", "name_similarity"]

    @transaction.atomic
    def save_model(self, request, obj: Community, form, change: bool) -> None:
        """A state or title changed by hand is dated too: earlier periods keep the old one."""
        if change and {"state", "title"} & set(form.changed_data):
            before = Community.objects.filter(pk=obj.pk).values_list("state", "title").get()
            community_history_record(before={obj.pk: before},
                                     after={obj.pk: (obj.state, obj.title)},
                                     on=timezone.localdate())
        super().save_model(request, obj, form, change)


@admin.register(CommunityHistory)
class CommunityHistoryAdmin(admin.ModelAdmin):
    list_display = ["community", "valid_from", "state", "title"]
    list_filter = ["state"]
    search_fields = ["title", "community__title"]
    raw_id_fields = ["community"]


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__last_name"]
    filter_horizontal = ["territories", "institutions"]
    raw_id_fields = ["user"]


# The library's own key model is unused: the portal's tokens belong to people (ApiToken).
admin.site.unregister(APIKey)
