"""The methodology form: the text, the components' weights, each rule's switch, weight, wording
and threshold, and each category's norms."""

from __future__ import annotations

from typing import Any

from django import forms

from institutions.choices import CommunityCategory
from reports.quality.methodology import Methodology
from reports.quality.rules import COMPONENTS, NORMS


class MethodologyForm(forms.Form):
    """Built from the methodology in force, so it opens filled with what is used now."""

    text = forms.CharField(label="Текст методики", widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *, methodology: Methodology, data: Any = None) -> None:
        super().__init__(data=data, initial={"text": methodology.text})
        self.methodology = methodology
        for code, label in COMPONENTS.items():
            self.fields[f"weight_{code}"] = forms.IntegerField(
                label=label, min_value=0, max_value=1000, initial=methodology.weights[code])
        for setting in methodology.rules:
            code = setting.code
            self.fields[f"rule_{code}_enabled"] = forms.BooleanField(
                label="Учитывать", required=False, initial=setting.enabled)
            self.fields[f"rule_{code}_weight"] = forms.IntegerField(
                label="Вес", min_value=0, max_value=100, initial=setting.weight)
            self.fields[f"rule_{code}_label"] = forms.CharField(
                label="Формулировка", max_length=200, initial=setting.label)
            if setting.rule.threshold is not None:
                self.fields[f"rule_{code}_threshold"] = forms.FloatField(
                    label=setting.rule.threshold_label, min_value=0, initial=setting.threshold)
        for category, norms in methodology.norms.items():
            for norm in NORMS:
                self.fields[f"norm_{category}_{norm.code}"] = forms.FloatField(
                    label=f"{CommunityCategory(category).label}: {norm.label.lower()}",
                    min_value=0, initial=norms[norm.code])

    def rule_rows(self) -> list[dict[str, Any]]:
        """The rules' fields grouped per rule, for the table of the page."""
        return [{"setting": s, "enabled": self[f"rule_{s.code}_enabled"],
                 "weight": self[f"rule_{s.code}_weight"], "label": self[f"rule_{s.code}_label"],
                 "threshold": self[f"rule_{s.code}_threshold"]
                 if f"rule_{s.code}_threshold" in self.fields else None}
                for s in self.methodology.rules]

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{code}"] for code in COMPONENTS]

    def norm_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(CommunityCategory(category).label,
                 [self[f"norm_{category}_{norm.code}"] for norm in NORMS])
                for category in self.methodology.norms]

    def payload(self) -> dict[str, Any]:
        """What ``methodology_save`` takes, from the cleaned fields."""
        data = self.cleaned_data
        rules = {}
        for setting in self.methodology.rules:
            code = setting.code
            rules[code] = {"enabled": data[f"rule_{code}_enabled"],
                           "weight": data[f"rule_{code}_weight"],
                           "label": data[f"rule_{code}_label"].strip(),
                           "threshold": data.get(f"rule_{code}_threshold")}
        return {"text": data["text"],
                "weights": {code: data[f"weight_{code}"] for code in COMPONENTS},
                "rules": rules,
                "norms": {category: {n.code: data[f"norm_{category}_{n.code}"] for n in NORMS}
                          for category in self.methodology.norms}}
