"""What the desk keeps per user: saved filters of its lists."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dues import clock


class SavedFilter(models.Model):
    """A list's filters (its query string) saved under a name by a user; ``shared``: the whole team sees it."""

    CUSTOMERS, WORKLIST = "customers", "worklist"
    LISTS = [(CUSTOMERS, "customers"), (WORKLIST, "worklist")]

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    list_name = models.CharField(max_length=20, choices=LISTS)
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True, help_text="the list's query string, without page")
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "list_name", "name"], name="savedfilter_unique")]
        indexes = [models.Index(fields=["company", "list_name", "shared"])]

    def __str__(self) -> str:
        return f"{self.list_name}: {self.name}"
