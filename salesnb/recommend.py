"""Recommendations: deterministic rules over the findings (placeholder until the rule engine lands)."""


def recommendations(findings: dict) -> dict:
    return {"opportunities": [], "risks": [], "actions": []}
