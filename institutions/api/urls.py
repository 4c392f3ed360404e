from institutions.api.tokens import ApiTokenViewSet
from institutions.api.views import CommunityViewSet, InstitutionViewSet, TerritoryViewSet
from portal.api import router

router.register("territories", TerritoryViewSet, basename="territory")
router.register("institutions", InstitutionViewSet, basename="institution")
router.register("communities", CommunityViewSet, basename="community")
router.register("tokens", ApiTokenViewSet, basename="api-token")
