"""The region's quality index: its methodology's versions and the published index rankings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class QualityMethodology(models.Model):
    """One version of the index's methodology: text, component weights, rules and norms.

    Versions are only added: the live index uses the newest, a published ranking names its own.
    """

    number = models.PositiveIntegerField("версия", unique=True)
    text = models.TextField("методика")
    weights = models.JSONField("веса составляющих")
    rules = models.JSONField("правила чек-листа")
    norms = models.JSONField("нормы категорий")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="кто изменил",
    )
    created_at = models.DateTimeField("создана", auto_now_add=True)

    class Meta:
        verbose_name = "методика индекса качества"
        verbose_name_plural = "методики индекса качества"
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1),
                                   name="quality_methodology_number_positive"),
        ]

    def __str__(self) -> str:
        return f"Методика индекса качества, версия {self.number}"


class PublishedQualityRanking(models.Model):
    """A frozen index ranking: its rows are copies, later weights and data do not alter them."""

    number = models.PositiveIntegerField("номер", unique=True)
    title = models.CharField("название", max_length=300)
    date_from = models.DateField("начало периода")
    date_to = models.DateField("конец периода")
    methodology_number = models.PositiveIntegerField("версия методики")
    methodology_text = models.TextField("методика")
    weights = models.JSONField("веса составляющих")
    rows = models.JSONField("строки рейтинга", default=list)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="опубликовал",
    )
    published_at = models.DateTimeField("опубликован", auto_now_add=True)

    class Meta:
        verbose_name = "опубликованный индекс качества"
        verbose_name_plural = "опубликованные индексы качества"
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.title} (№{self.number})"
