"""Who a login is at the desk: their role and the name customers carry for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .roles import ROLES


class UserRole(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_role")
    role = models.CharField(max_length=20, choices=list(ROLES.items()))
    # the name in customers' salesperson / collector fields (a sales user sees the customers carrying it)
    person_name = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["role"], name="userrole_role")]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.role})"

    @property
    def desk_name(self) -> str:
        return self.person_name or self.user.get_full_name() or self.user.get_username()
