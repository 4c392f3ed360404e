from __future__ import annotations

from rest_framework import serializers

from institutions.choices import Network
from metrics.collect.choices import TokenKind
from metrics.models import CollectionRun, CollectionRunItem, NetworkToken


class CollectionRunSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    # Null for the runs beat starts and when the user is gone.
    triggered_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                                allow_null=True)

    class Meta:
        model = CollectionRun
        fields = ["id", "kind", "network", "period", "state", "created_at", "started_at",
                  "finished_at", "total", "done", "failed", "skipped", "requests",
                  "errors_by_code", "message", "percent", "triggered_by"]
        read_only_fields = fields


class CollectionRunItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionRunItem
        fields = ["community", "outcome", "error_key", "message"]
        read_only_fields = fields


class NetworkTokenSerializer(serializers.ModelSerializer):
    """A token: the secret goes in once and never comes back (only its last four characters)."""

    secret = serializers.CharField(write_only=True, max_length=500,
                                   style={"input_type": "password"})
    app_secret = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                       max_length=200)
    network = serializers.ChoiceField(choices=Network.choices)
    kind = serializers.ChoiceField(choices=TokenKind.choices)
    masked = serializers.CharField(read_only=True)
    # Null for tokens registered by a command, the demo, or a user since deleted.
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    communities = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    community_ids = serializers.ListField(child=serializers.IntegerField(), write_only=True,
                                          required=False)

    class Meta:
        model = NetworkToken
        fields = ["id", "network", "kind", "label", "secret", "app_key", "app_secret", "masked",
                  "is_active", "disabled_reason", "rests_until", "checked_at", "created_at",
                  "owner", "communities", "community_ids"]
        read_only_fields = ["is_active", "disabled_reason", "rests_until", "checked_at",
                            "created_at"]
