"""Production settings plus one plain JSON view, the reference the deposit figures are compared with."""

from backend.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.deposits.urls"
