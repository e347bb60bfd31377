"""The credit-bank engine: recognise, accumulate and convert learning outcomes (pure code).

`audit(outcomes, rule_set, as_of=...)` is the entry point; see audit.py for the order of steps.
"""
