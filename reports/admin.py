from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from reports.models import ReminderLog, Report, ReportComment

# --- The Table-1 workflow. State changes go through reports.services; the admin only reads
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
