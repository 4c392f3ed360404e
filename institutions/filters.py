"""One FilterSet per list, shared by the API and the HTML pages.

Every choice list that names registry objects (territories, institutions) is narrowed to what the
requesting user may see, so neither a dropdown nor a "not a valid choice" error reveals anything
outside the user's scope.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_filters.widgets import BooleanWidget

from institutions.choices import CommunityState, InstitutionType, Network, Subordination
from institutions.models import Community, Institution, Territory
from portal.lib.search import Fold, fold_text


class YesNoWidget(BooleanWidget):
    """``true``/``false`` in the query string, «Все / Да / Нет» on the page."""

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs)
        self.choices = [("", "Все"), ("true", "Да"), ("false", "Нет")]


def live_communities() -> QuerySet[Community]:
    """Communities that still count as the institution's: everything but the deleted ones."""
    return Community.objects.exclude(state=CommunityState.DELETED)


class ScopedFilterSet(django_filters.FilterSet):
    """Narrows the querysets of model-choice filters to the requesting user's scope."""

    scoped_choices: dict[str, type] = {}

    def __init__(self, *args, request=None, **kwargs) -> None:
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        for name, model in self.scoped_choices.items():
            self.filters[name].queryset = model.objects.visible_to(user)


class TerritoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Поиск")

    class Meta:
        model = Territory
        fields = ["kind"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.alias(name_folded=Fold("name")).filter(
            Q(name_folded__contains=fold_text(value)) | Q(oktmo__startswith=value))


class InstitutionFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search",
                                  label="Поиск: название, ИНН или адрес сообщества")
    territory = django_filters.ModelChoiceFilter(
        queryset=Territory.objects.none(), label="Территория", empty_label="Все территории"
    )
    type = django_filters.ChoiceFilter(
        choices=InstitutionType.choices, label="Тип", empty_label="Все типы"
    )
    subordination = django_filters.ChoiceFilter(
        choices=Subordination.choices, label="Подведомственность", empty_label="Любая"
    )
    network = django_filters.ChoiceFilter(
        choices=Network.choices, method="with_network", label="Соцсеть", empty_label="Любая"
    )
    no_community = django_filters.BooleanFilter(
        method="without_community", label="Нет сообществ", widget=YesNoWidget
    )
    not_verified = django_filters.BooleanFilter(
        method="with_unverified", label="Нет отметки «Госорганизация»", widget=YesNoWidget
    )
    is_active = django_filters.BooleanFilter(label="Действует", widget=YesNoWidget)

    scoped_choices = {"territory": Territory}

    class Meta:
        model = Institution
        fields = ["q", "territory", "type", "subordination", "network", "no_community",
                  "not_verified", "is_active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        folded = fold_text(value)
        by_address = live_communities().alias(
            url_folded=Fold("url"), screen_folded=Fold("screen_name"),
        ).filter(Q(url_folded__contains=folded) | Q(screen_folded__contains=folded),
                 institution=OuterRef("pk"))
        return queryset.alias(
            short_folded=Fold("short_name"), full_folded=Fold("full_name"),
        ).filter(
            Q(short_folded__contains=folded) | Q(full_folded__contains=folded)
            | Q(inn__startswith=value) | Exists(by_address)
        )

    def with_network(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        has = live_communities().filter(institution=OuterRef("pk"), network=value)
        return queryset.filter(Exists(has))

    def without_community(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        has = live_communities().filter(institution=OuterRef("pk"))
        return queryset.filter(~Exists(has)) if value else queryset.filter(Exists(has))

    def with_unverified(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        unverified = live_communities().filter(institution=OuterRef("pk"), is_verified=False)
        if value:
            return queryset.filter(Exists(unverified))
        return queryset.exclude(Exists(unverified))


class CommunityFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="Поиск")
    institution = django_filters.ModelChoiceFilter(
        queryset=Institution.objects.none(), label="Учреждение"
    )
    territory = django_filters.ModelChoiceFilter(
        field_name="institution__territory", queryset=Territory.objects.none(),
        label="Территория",
    )
    institution_type = django_filters.ChoiceFilter(
        field_name="institution__type", choices=InstitutionType.choices, label="Тип учреждения"
    )
    subordination = django_filters.ChoiceFilter(
        field_name="institution__subordination", choices=Subordination.choices,
        label="Подведомственность",
    )
    is_verified = django_filters.BooleanFilter(
        label="Отметка «Госорганизация»", widget=YesNoWidget
    )

    scoped_choices = {"institution": Institution, "territory": Territory}

    class Meta:
        model = Community
        fields = ["q", "institution", "territory", "institution_type", "subordination",
                  "network", "state", "is_verified"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        folded = fold_text(value)
        return queryset.alias(
            title_folded=Fold("title"), screen_folded=Fold("screen_name"),
            url_folded=Fold("url"),
        ).filter(
            Q(title_folded__contains=folded) | Q(screen_folded__contains=folded)
            | Q(url_folded__contains=folded)
        )
