"""Guardrails: grounding (shared by summaries and answers), content screening, policy filter."""
