"""Forms of the collection pages: «Собрать сейчас» and registering a token."""

from __future__ import annotations

from django import forms

from institutions.choices import Network
from institutions.links import LinkError, parse_community_link
from institutions.models import Community
from metrics.collect.choices import RunKind, TokenKind

NETWORK_BOTH = "both"


class CollectNowForm(forms.Form):
    kind = forms.ChoiceField(label="Что собрать", choices=RunKind.choices,
                             initial=RunKind.MEMBERS)
    network = forms.ChoiceField(
        label="Откуда", initial=NETWORK_BOTH,
        choices=[(NETWORK_BOTH, "VK и OK"), *Network.choices],
    )

    def networks(self) -> list[str]:
        chosen = self.cleaned_data["network"]
        return [Network.VK, Network.OK] if chosen == NETWORK_BOTH else [chosen]


class TokenForm(forms.Form):
    """A token as people paste it; the secret is never rendered back."""

    network = forms.ChoiceField(label="Соцсеть", choices=Network.choices)
    kind = forms.ChoiceField(
        label="Вид ключа", choices=TokenKind.choices, initial=TokenKind.USER,
        help_text="VK: ключ пользователя годится для всего (статистику даёт только ключ "
                  "администратора сообщества); сервисный ключ читает стены и участников по "
                  "одному запросу на страницу — медленнее; ключ сообщества ускоряет сбор "
                  "участников, но статистику и стены VK по нему не отдаёт.")
    label = forms.CharField(label="Название", max_length=200,
                            help_text="Например: «Ключ администратора ДК Алексеевки».")
    secret = forms.CharField(label="Ключ доступа (access_token)", max_length=500,
                             widget=forms.PasswordInput(render_value=False))
    app_key = forms.CharField(label="Ключ приложения OK (application_key)", max_length=64,
                              required=False)
    app_secret = forms.CharField(label="Секретный ключ приложения OK", max_length=200,
                                 required=False, widget=forms.PasswordInput(render_value=False))
    communities = forms.CharField(
        label="Сообщества, которые ключ администрирует (для статистики: ключ пользователя)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ссылки или id из реестра, по одной в строке. Редактор учреждения указывает "
                  "сообщества своего учреждения.",
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_communities(self) -> list[int]:
        """Lines → registry communities the user may see; unknown lines are named."""
        visible = Community.objects.visible_to(self.user)
        ids, unknown = [], []
        for line in filter(None, (x.strip() for x in self.cleaned_data["communities"]
                                  .replace(",", "\n").splitlines())):
            community = _find(visible, line)
            if community is None:
                unknown.append(line)
            else:
                ids.append(community.pk)
        if unknown:
            raise forms.ValidationError(
                f"Не найдены в реестре (или вне вашей зоны): {', '.join(unknown)}.")
        return ids


def _find(visible, line: str) -> Community | None:
    if line.isdecimal():
        return visible.filter(network_id=int(line)).first()
    try:
        parsed = parse_community_link(line)
    except LinkError:
        return None
    same = visible.filter(network=parsed.network)
    if parsed.network_id is not None:
        return same.filter(network_id=parsed.network_id).first()
    return same.filter(screen_name__iexact=parsed.screen_name).first()
