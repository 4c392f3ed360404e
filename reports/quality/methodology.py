"""The methodology in force: rules as the region set them, norms, weights; and its versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from institutions.choices import CommunityCategory
from institutions.models import is_regional_methodologist
from portal.errors import NotAllowed, ValidationFailed
from reports.models import QualityMethodology
from reports.quality.rules import (
    COMPONENTS,
    DEFAULT_NORMS,
    DEFAULT_TEXT,
    DEFAULT_WEIGHTS,
    NORM_BY_CODE,
    RULE_BY_CODE,
    RULES,
    Rule,
)


@dataclass(frozen=True)
class RuleSetting:
    """A rule as the region uses it: switched on or off, its weight, wording and threshold."""

    rule: Rule
    enabled: bool
    weight: int
    label: str
    threshold: float | None

    @property
    def code(self) -> str:
        return self.rule.code


@dataclass(frozen=True)
class Methodology:
    """One version of the methodology (number 0: the defaults, before any edit)."""

    number: int
    text: str
    weights: dict[str, int]
    rules: tuple[RuleSetting, ...]
    norms: dict[str, dict[str, float]]

    @property
    def enabled_rules(self) -> list[RuleSetting]:
        return [r for r in self.rules if r.enabled and r.weight > 0]

    def rule(self, code: str) -> RuleSetting:
        return next(r for r in self.rules if r.code == code)

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "weights": self.weights, "norms": self.norms,
                "rules": {r.code: {"enabled": r.enabled, "weight": r.weight, "label": r.label,
                                   "threshold": r.threshold} for r in self.rules}}


def _settings(saved: dict[str, Any]) -> tuple[RuleSetting, ...]:
    """Every rule of the code, as saved (a rule added since a version takes its defaults)."""
    out = []
    for rule in RULES:
        mine = saved.get(rule.code, {})
        out.append(RuleSetting(rule=rule, enabled=bool(mine.get("enabled", True)),
                               weight=int(mine.get("weight", rule.weight)),
                               label=str(mine.get("label") or rule.label),
                               threshold=mine.get("threshold", rule.threshold)))
    return tuple(out)


def _norms(saved: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {category: {code: float((saved.get(category) or {}).get(code, default))
                       for code, default in defaults.items()}
            for category, defaults in DEFAULT_NORMS.items()}


def methodology_of(version: QualityMethodology | None) -> Methodology:
    if version is None:
        return Methodology(0, DEFAULT_TEXT, dict(DEFAULT_WEIGHTS), _settings({}),
                           _norms({}))
    weights = {code: int(version.weights.get(code, 0)) for code in COMPONENTS}
    return Methodology(version.number, version.text, weights, _settings(version.rules),
                       _norms(version.norms))


def methodology_current() -> Methodology:
    """The newest version (or the defaults when the region has not edited any)."""
    return methodology_of(QualityMethodology.objects.order_by("-number").first())


def _errors(*, text: str, weights: dict[str, int], rules: dict[str, dict[str, Any]],
            norms: dict[str, dict[str, float]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not text.strip():
        errors["text"] = "Опишите методику: что и как входит в индекс."
    if set(weights) != set(COMPONENTS) or any(w < 0 for w in weights.values()):
        errors["weights"] = "Веса составляющих — неотрицательные целые числа для каждой."
    elif sum(weights.values()) <= 0:
        errors["weights"] = "Хотя бы одна составляющая индекса должна иметь вес больше нуля."
    unknown = set(rules) - set(RULE_BY_CODE)
    if unknown:
        errors["rules"] = f"Неизвестные правила: {', '.join(sorted(unknown))}."
    for code, mine in rules.items():
        if int(mine.get("weight", 0)) < 0:
            errors[f"rule_{code}"] = f"Вес правила «{RULE_BY_CODE[code].label}» меньше нуля."
        threshold = mine.get("threshold")
        if threshold is not None and float(threshold) < 0:
            errors[f"rule_{code}"] = (f"Порог правила «{RULE_BY_CODE[code].label}» меньше "
                                      "нуля.")
    for category, values in norms.items():
        if category not in CommunityCategory.values or set(values) - set(NORM_BY_CODE):
            errors["norms"] = "Нормы задаются для известных категорий и показателей."
        elif any(float(v) < 0 for v in values.values()):
            errors["norms"] = "Нормы категорий не могут быть меньше нуля."
    return errors


@transaction.atomic
def methodology_save(*, user, text: str, weights: dict[str, int],
                     rules: dict[str, dict[str, Any]],
                     norms: dict[str, dict[str, float]]) -> QualityMethodology:
    """Save the methodology as its next version (earlier versions stay as they were)."""
    if not is_regional_methodologist(user):
        raise NotAllowed("Методику индекса качества меняет только региональный методист.")
    errors = _errors(text=text, weights=weights, rules=rules, norms=norms)
    if errors:
        raise ValidationFailed(" ".join(errors.values()), details=errors)
    last = QualityMethodology.objects.aggregate(last=Max("number"))["last"] or 0
    return QualityMethodology.objects.create(
        number=last + 1, text=text.strip(), weights=weights, rules=rules,
        norms={c: {k: float(v) for k, v in values.items()} for c, values in norms.items()},
        created_by=user if getattr(user, "is_authenticated", False) else None)
