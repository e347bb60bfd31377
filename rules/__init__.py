"""Rules: the rule language (rule sets, programmes, sources, frameworks, fields) and the engine
that recognises, accumulates and converts learning outcomes (evaluation, degree audit,
explanations). Pure code: imports only `credentials`.

`rules.audit.audit(outcomes, rule_set, as_of=...)` is the entry point; see audit.py for the order
of steps.
"""
