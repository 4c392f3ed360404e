from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from metrics.models import (
    CollectionBatch,
    CollectionRun,
    MemberSnapshot,
    MetricValue,
    NetworkToken,
)


@admin.register(MetricValue)
class MetricValueAdmin(SimpleHistoryAdmin):
    list_display = ["community", "month", "indicator", "value", "source", "api_value",
                    "updated_at"]
    list_filter = ["indicator", "source", "month"]
    raw_id_fields = ["community", "updated_by"]
    list_select_related = ["community"]


@admin.register(MemberSnapshot)
class MemberSnapshotAdmin(admin.ModelAdmin):
    list_display = ["community", "date", "members"]
    list_filter = ["date"]
    raw_id_fields = ["community"]
    list_select_related = ["community"]


# --- Collection from VK and OK --------------------------------------------------------------------
@admin.register(NetworkToken)
class NetworkTokenAdmin(admin.ModelAdmin):
    """Tokens are registered (and checked) on the portal's tokens page; here they are managed."""

    list_display = ["label", "network", "kind", "masked", "is_active", "disabled_reason",
                    "rests_until", "owner", "created_at"]
    list_filter = ["network", "kind", "is_active"]
    search_fields = ["label", "last4"]
    fields = ["label", "network", "kind", "masked", "app_key", "communities", "is_active",
              "disabled_reason", "disabled_at", "rests_until", "owner", "checked_at",
              "created_at"]
    readonly_fields = ["network", "kind", "masked", "app_key", "owner", "checked_at",
                       "created_at", "disabled_at"]
    raw_id_fields = ["communities"]
    list_select_related = ["owner"]

    def has_add_permission(self, request) -> bool:
        return False


class CollectionBatchInline(admin.TabularInline):
    model = CollectionBatch
    fields = ["index", "state", "attempts", "done", "failed", "skipped", "requests", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(CollectionRun)
class CollectionRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "state", "created_at", "finished_at", "total", "done", "failed",
                    "skipped", "requests"]
    list_filter = ["kind", "network", "state"]
    readonly_fields = ["kind", "network", "period", "triggered_by", "created_at", "started_at",
                       "finished_at", "total", "done", "failed", "skipped", "requests",
                       "errors_by_code"]
    inlines = [CollectionBatchInline]
    list_select_related = ["triggered_by"]
