"""Integration tests of the evaluator."""
