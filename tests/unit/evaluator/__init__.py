"""Unit tests of the evaluator."""
