"""Which household figures may be published: the K-household rule and the no-subtraction rule.

1. A cell (a community, a district, the city) drawn from fewer than K registered households shows no
   household figure (participation, drops, verdicts, accuracy).
2. Within a parent (a district for its communities, the city for its districts), the withheld cells
   together hold either no household or at least K. Otherwise the parent's total minus its published
   cells would give the withheld cells' figure exactly, and so a small community's habits. When they
   hold 1 to K-1 households, the smallest published cell is withheld as well, and again, until the
   withheld cells hold none or at least K, or nothing is left to withhold.

Rule 2 holds whether or not the parent itself is published: a withheld parent's total can still be
worked out one level up (the city minus its other districts), so its cells are protected all the same.
docs/public.md states the rule with examples; tests/stats/test_public_privacy.py proves it.
"""

from collections.abc import Hashable, Mapping


def withheld[Key: Hashable](households: Mapping[Key, int], k: int) -> set[Key]:
    """The cells of one parent that publish no household figure, by their registered households."""
    hidden = {key for key, n in households.items() if n < k}
    while True:
        remainder = sum(households[key] for key in hidden)
        if remainder == 0 or remainder >= k:
            return hidden
        shown = sorted((n, str(key), key) for key, n in households.items() if key not in hidden)
        if not shown:
            return hidden
        hidden.add(shown[0][2])
