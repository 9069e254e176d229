"""Cohort match runs: ``services`` (a coordinator's actions), ``execution`` (the worker's
claim, compute, fail and sweep, and their tasks) and ``selectors`` (reads and comparisons)."""
