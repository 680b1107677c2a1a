"""Harnesses of the whole-product test suites (tests/hostile, tests/proof).

Test support only: nothing in the product imports it (an import-linter contract).
"""
