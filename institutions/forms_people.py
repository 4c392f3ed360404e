"""Forms of the people pages: one person, the bulk invitation file, the list filter."""

from __future__ import annotations

from django import forms

from institutions.choices import Role
from institutions.models import Institution, Territory, is_regional_methodologist, profile_of
from institutions.people import PersonData, assignable_roles

XLSX_ACCEPT = ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope_querysets(manager):
    if is_regional_methodologist(manager):
        return Territory.objects.all(), Institution.objects.select_related("territory")
    mine = profile_of(manager).territory_ids()
    return (Territory.objects.filter(pk__in=mine),
            Institution.objects.filter(territory_id__in=mine).select_related("territory"))


class PersonForm(forms.Form):
    """A person's name, e-mail, role and scope, as a manager may set them."""

    last_name = forms.CharField(label="Фамилия", max_length=150)
    first_name = forms.CharField(label="Имя и отчество", max_length=150, required=False)
    email = forms.EmailField(label="Электронная почта", help_text="Она же имя для входа.")
    role = forms.ChoiceField(label="Роль")
    territories = forms.ModelMultipleChoiceField(
        label="Территории", required=False, queryset=Territory.objects.none(),
        help_text="Для муниципального отдела, наблюдателя и API-клиента; пусто — весь регион. "
                  "Несколько — щелчками с нажатой Ctrl (⌘ на Mac).",
        widget=forms.SelectMultiple(attrs={"size": 6}))
    institutions = forms.ModelMultipleChoiceField(
        label="Учреждения", required=False, queryset=Institution.objects.none(),
        help_text="Для редактора учреждения. Несколько — щелчками с нажатой Ctrl (⌘ на Mac).",
        widget=forms.SelectMultiple(attrs={"size": 8}))
    is_active = forms.BooleanField(label="Может входить в портал", required=False, initial=True)

    def __init__(self, *args, manager, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        territories, institutions = _scope_querysets(manager)
        self.fields["role"].choices = assignable_roles(manager)
        self.fields["territories"].queryset = territories
        self.fields["institutions"].queryset = institutions
        self.fields["institutions"].label_from_instance = (
            lambda i: f"{i.short_name} — {i.territory.name}")

    def person(self) -> PersonData:
        data = self.cleaned_data
        return PersonData(
            email=data["email"], first_name=data["first_name"], last_name=data["last_name"],
            role=data["role"], territory_ids=tuple(t.pk for t in data["territories"]),
            institution_ids=tuple(i.pk for i in data["institutions"]),
            is_active=data["is_active"])

    @classmethod
    def initial_for(cls, user) -> dict:
        profile = profile_of(user)
        return {"last_name": user.last_name, "first_name": user.first_name,
                "email": user.email or user.username, "is_active": user.is_active,
                "role": profile.role if profile else Role.VIEWER,
                "territories": list(profile.territories.all()) if profile else [],
                "institutions": list(profile.institutions.all()) if profile else []}


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label="Имя или почта", required=False)
    role = forms.ChoiceField(label="Роль", required=False,
                             choices=[("", "любая"), *Role.choices])
    active = forms.ChoiceField(label="Состояние", required=False, choices=[
        ("", "все"), ("yes", "активные"), ("no", "отключённые"), ("invited", "не задали пароль")])


class PeopleImportForm(forms.Form):
    file = forms.FileField(label="Файл со списком (.xlsx)",
                           widget=forms.ClearableFileInput(attrs={"accept": XLSX_ACCEPT}))
