"""The demo's people share one password, printed by `python -m service demo` and in the README."""

DEMO_PASSWORD = "civic-demo-2026"  # noqa: S105 - printed on purpose for the demo accounts
