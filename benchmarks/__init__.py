"""Reproducible benchmarks of edgeaudit (ratios measured side by side in one run); see benchmarks/README.md.

Run ``python -m benchmarks [--only B1,B3] [--quick]`` (or ``make bench``) from the repository root.
"""
