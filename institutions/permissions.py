"""Who may do what with the registry."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from institutions.models import is_regional_methodologist, profile_of


class RegistryPermission(BasePermission):
    """Read within scope for every role; write for regional methodologists only."""

    message = "Изменять реестр могут только региональные методисты."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user.is_authenticated and (user.is_superuser or profile_of(user))):
            return False
        return request.method in SAFE_METHODS or is_regional_methodologist(user)
