"""Several treatments against one control: Holm's step-down correction."""


def holm_adjusted(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given (reject where adjusted ≤ alpha)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


__all__ = ["holm_adjusted"]
