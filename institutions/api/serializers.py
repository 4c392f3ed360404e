from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from institutions.links import LinkError, ParsedLink, parse_community_link
from institutions.models import Community, Institution, Territory
from institutions.validators import validate_inn as inn_checksum_validator

DUPLICATE_COMMUNITY = "Сообщество «{url}» уже есть в реестре (учреждение «{institution}»)."


class TerritorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Territory
        fields = ["id", "name", "kind", "oktmo"]


def _same_community(parsed: ParsedLink) -> QuerySet[Community]:
    """Communities that name the same group: by numeric id when known, else by screen name."""
    same = Community.objects.filter(network=parsed.network).select_related("institution")
    if parsed.network_id is not None:
        return same.filter(network_id=parsed.network_id)
    return same.filter(screen_name__iexact=parsed.screen_name)


class CommunitySerializer(serializers.ModelSerializer):
    """A community is created from the link people paste; network and id come from parsing it."""

    # Plain text, not a URL field: people paste "vk.com/name" or "public123" without a scheme.
    url = serializers.CharField(max_length=300, label="Ссылка")

    class Meta:
        model = Community
        fields = [
            "id", "institution", "network", "network_id", "screen_name", "title", "url",
            "is_verified", "state", "members_count", "last_collected_at", "last_error",
            "created_at", "updated_at",
        ]
        read_only_fields = [
            "network", "network_id", "screen_name", "members_count", "last_collected_at",
            "last_error", "created_at", "updated_at",
        ]

    def validate_url(self, value: str) -> str:
        try:
            self._parsed = parse_community_link(value)
        except LinkError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return self._parsed.url

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        parsed: ParsedLink | None = getattr(self, "_parsed", None)
        if parsed is None:
            return attrs
        attrs.update(
            network=parsed.network, network_id=parsed.network_id, screen_name=parsed.screen_name
        )
        clash = _same_community(parsed)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        existing = clash.first()
        if existing is not None:
            raise serializers.ValidationError({"url": DUPLICATE_COMMUNITY.format(
                url=parsed.url, institution=existing.institution.short_name
            )})
        return attrs


class CommunityBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Community
        fields = ["id", "network", "network_id", "screen_name", "title", "url", "is_verified",
                  "state"]


class InstitutionSerializer(serializers.ModelSerializer):
    communities = CommunityBriefSerializer(many=True, read_only=True)
    territory_name = serializers.CharField(source="territory.name", read_only=True)

    class Meta:
        model = Institution
        fields = [
            "id", "full_name", "short_name", "type", "inn", "territory", "territory_name",
            "subordination", "is_active", "communities", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # The uniqueness check is ours (below), to name the institution that holds the INN.
        extra_kwargs = {"inn": {"validators": [inn_checksum_validator]}}

    def validate_inn(self, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            return None
        clash = Institution.objects.filter(inn=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        existing = clash.first()
        if existing is not None:
            raise serializers.ValidationError(
                f"ИНН {value} уже указан у учреждения «{existing.short_name}»."
            )
        return value
