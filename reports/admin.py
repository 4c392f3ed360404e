from django.contrib import admin
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from reports.models import (
    ExportJob,
    ExportState,
    PublishedRanking,
    PublishedRankingVersion,
    ReminderLog,
    Report,
    ReportComment,
)

# --- The Table-1 workflow. State changes go through reports.workflow.services; the admin only reads
# them, so the rules and the audit trail cannot be bypassed here.


class ReportCommentInline(admin.TabularInline):
    model = ReportComment
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "action", "from_state", "to_state", "text"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(SimpleHistoryAdmin):
    list_display = ["institution", "month", "state", "version", "updated_at"]
    list_filter = ["state", "month"]
    search_fields = ["institution__short_name"]
    list_select_related = ["institution"]
    raw_id_fields = ["institution"]
    readonly_fields = ["institution", "month", "state", "version", "submitted_by",
                       "submitted_at", "accepted_by", "accepted_at", "approved_by",
                       "approved_at"]
    inlines = [ReportCommentInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ReminderLog)
class ReminderLogAdmin(admin.ModelAdmin):
    list_display = ["sent_on", "recipient", "kind", "email", "sent_at"]
    list_filter = ["kind", "sent_on"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "kind", "sent_on", "email", "reports"]


# --- Published rankings and background exports. Published versions are immutable and export
# jobs are written only by their task, so here both are for reading.


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and detail pages only: nothing is added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PublishedVersionInline(admin.TabularInline):
    model = PublishedRankingVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["number", "title", "metric_label", "data_as_of", "published_by", "published_at"]
    readonly_fields = fields
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PublishedRanking)
class PublishedRankingAdmin(ReadOnlyAdmin):
    list_display = ["title", "slug", "version_count", "created_by", "created_at"]
    search_fields = ["title", "slug"]
    list_select_related = ["created_by"]
    fields = ["title", "slug", "created_by", "created_at"]
    readonly_fields = fields
    inlines = [PublishedVersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(version_total=Count("versions"))

    @admin.display(description="версий", ordering="version_total")
    def version_count(self, obj: PublishedRanking) -> int:
        return obj.version_total


@admin.register(PublishedRankingVersion)
class PublishedRankingVersionAdmin(ReadOnlyAdmin):
    list_display = ["ranking", "number", "metric_label", "data_as_of", "row_count",
                    "published_by", "published_at"]
    list_filter = ["metric_label", "published_at"]
    search_fields = ["title", "ranking__title", "ranking__slug"]
    list_select_related = ["ranking", "published_by"]
    fields = ["ranking", "number", "title", "metric_label", "data_as_of", "params",
              "methodology", "notes", "row_count", "missing_count", "published_by",
              "published_at"]
    readonly_fields = fields

    @admin.display(description="мест в рейтинге")
    def row_count(self, obj: PublishedRankingVersion) -> int:
        return len(obj.rows)

    @admin.display(description="без данных")
    def missing_count(self, obj: PublishedRankingVersion) -> int:
        return len(obj.missing)


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "state", "percent", "file_name", "requested_by",
                    "created_at", "finished_at"]
    list_filter = ["kind", "state"]
    search_fields = ["filename", "requested_by__username"]
    list_select_related = ["requested_by"]
    fields = ["kind", "params", "state", "percent", "file_name", "file_size", "error",
              "requested_by", "created_at", "started_at", "finished_at"]
    readonly_fields = fields

    @admin.display(description="готовность", ordering="progress")
    def percent(self, obj: ExportJob) -> str:
        return f"{obj.progress} %"

    @admin.display(description="файл", ordering="filename")
    def file_name(self, obj: ExportJob) -> str:
        if obj.state == ExportState.EXPIRED:
            return f"{obj.filename} (удалён по сроку хранения)"
        return obj.filename or obj.file.name or "—"

    @admin.display(description="размер файла")
    def file_size(self, obj: ExportJob) -> str:
        if not obj.file:
            return "—"
        try:
            size = obj.file.size
        except OSError:
            return "файл не найден"
        return f"{size / 1024:.1f} КБ".replace(".", ",")
