"""Registers this app's API viewsets on the shared router (portal.api.router)."""

from metrics.api.views import CollectionRunViewSet, NetworkTokenViewSet
from portal.api import router

router.register("collection-runs", CollectionRunViewSet, basename="collection-run")
router.register("network-tokens", NetworkTokenViewSet, basename="network-token")
