"""Rollup tables kept in step with the raw events, and proof that they are.

- `definitions`: what each rollup table sums, as the recount query that defines it.
- `incremental`: the worker's round, recomputing only the buckets new or changed events touched.
- `rebuild`: every rollup recomputed from scratch.
- `verification`: every rollup compared with its recount.
- `rounds`: the lock and the result every refresh shares.
"""
