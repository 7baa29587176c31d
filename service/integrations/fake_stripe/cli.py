"""`python -m service fake-stripe` (or `python -m service.integrations.fake_stripe`): the fake
Stripe server in the foreground, for demos and for pointing a running app at it."""

from __future__ import annotations

import argparse
import logging


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=None, help="where events are POSTed, signed")
    parser.add_argument("--webhook-secret", default=None, help="the endpoint's whsec_... secret")
    parser.add_argument("--seed", type=int, default=0, help="ids, faults and shuffling repeat")
    parser.add_argument("--currency", default="usd", help="the platform's default currency")
    parser.add_argument(
        "--balance", type=int, default=0, help="initial available balance, in minor units"
    )
    parser.add_argument("--duplicates", type=int, default=1, help="deliver each event N times")
    parser.add_argument("--shuffle", action="store_true", help="deliver events out of order")


def run(args: argparse.Namespace) -> int:
    # Imported here so that `python -m service --help` does not load the server.
    from service.integrations.fake_stripe.server import TEST_API_KEY, FakeStripe

    if args.webhook_url and not args.webhook_secret:
        print("--webhook-url needs --webhook-secret (the whsec_... the app verifies with)")
        return 2
    fake = FakeStripe(
        host=args.host,
        port=args.port,
        seed=args.seed,
        default_currency=args.currency.lower(),
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
    )
    fake.webhooks.configure(duplicates=args.duplicates, shuffle=args.shuffle)
    if args.balance:
        fake.top_up(args.balance)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    fake.server.bind()
    url = fake.url
    print(f"Fake Stripe on {url} (any sk_test_... key, e.g. {TEST_API_KEY})")
    print(f"  SDK: stripe.StripeClient(key, base_addresses={{'api': '{url}', 'connect': '{url}'}})")
    print(f"  control: {url}/_fake/counts, {url}/_fake/faults, {url}/_fake/webhooks")
    if args.webhook_url:
        print(f"  webhooks: {args.webhook_url}")
    fake.serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.integrations.fake_stripe")
    add_arguments(parser)
    return run(parser.parse_args(argv))
