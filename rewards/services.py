"""Write use cases of rewards. The ledger primitives are re-exported here as the one API other areas call."""

from .ledger import LedgerResult, credit, debit, refund, reverse

__all__ = ["LedgerResult", "credit", "debit", "refund", "reverse"]
