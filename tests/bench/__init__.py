"""Benchmark harness, run by `make bench` (`python -m tests.bench`).

Every figure it prints is a ratio between two servers measured in the same run on the same
machine, never an absolute number compared with a fixed threshold, so it does not depend on
how fast the machine is. Each server is its own uvicorn process pinned to one core; the load
comes from a separate process pinned to another core (wrk when installed, else an httpx load
generator). Nothing here is collected by pytest.

The figure on the public challenge list runs on PostgreSQL: the bench creates a database of
its own on the local server (127.0.0.1:5432, user postgres, or `--postgres-url`), migrates
and seeds it, and drops it at the end; without a reachable server that figure is skipped.

The payout figure (payouts.py) runs the real job worker against the fake Stripe server, on a
database of its own on the same server: payouts per second when Stripe fails one transfer call
in ten, as a ratio to the same worker when Stripe fails none.

The deal-flow figure (dealflow.py) seeds the same database with 100,000 startups ranked for one
investor and asks for a page of 20, the app signed in as the investor's member, against a bare
asyncpg route running the same statements (bare_dealflow.py).

The page figures run the app with production settings on that database: the home page, the
challenge list page, the API list and /healthz, each against a bare route answering the very
bytes the app answered for that path (bare_bytes.py), so what a figure shows is the app's
own work per request. `python -m tests.bench --only pages` measures just these.

The dashboard figure (dashboards.py) times the public dashboards and ledgers, one request at
a time, on a ledger of 10,000 rows and again after growing the same database to 1,000,000:
the ratio of the two (target at most 1.5) shows whether they read the ledger's sums rather
than its rows. `python -m tests.bench --only dashboards` measures just this.
"""
