"""Forms of the registry pages."""

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RegistryImportForm(forms.Form):
    """The registry .xlsx to preview before importing; its content is checked by the service."""

    file = forms.FileField(
        label=gettext_lazy("Файл реестра (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{XLSX_MIME}"}),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = settings.UPLOAD_MAX_BYTES
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Нужен файл Excel в формате .xlsx."))
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                _("Файл больше допустимых %(mb)s МБ.") % {"mb": round(limit / (1024 * 1024), 1)}
            )
        return upload
