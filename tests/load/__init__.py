"""Load tests at city and national scale (`make loadtest`, never part of `make test`).

`python -m tests.load` seeds the `civic_load` database (tests/load/seed.py), starts the app with
2 web processes and 2 workers, runs each scenario headless with Locust (city launch, deadline
rush, investors) or through the workers (results day), then checks the database: every
successful write is there, nothing refused is, and no answer was a 5xx. `--scale small` runs
the same scenarios on 1/50 of the data (`civic_load_small`, seeded in seconds) as a smoke run.
"""
