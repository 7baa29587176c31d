"""Recompute every investor's deal flow now: `python -m service.matching.recompute`.

The same work as the nightly job (track records, the text model, every ranking), run in this
process with a progress bar over the investors.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from tqdm import tqdm

from service import db
from service.config import Settings
from service.matching import service as matching
from service.matching.models import InvestorThesis


async def run(settings: Settings, *, refit: bool = True) -> int:
    await db.init_db(settings)
    try:
        total = await InvestorThesis.filter(organization__verified_at__isnull=False).count()
        started = time.perf_counter()
        with tqdm(total=total, desc="matching", unit="investor", file=sys.stdout) as bar:
            async with db.transaction(None):
                stored = await matching.recompute_all(
                    settings=settings, refit=refit, progress=bar.update
                )
        print(f"matching: {stored} matches stored in {time.perf_counter() - started:.1f} s")
        return 0
    finally:
        await db.close_db()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.matching.recompute")
    parser.add_argument(
        "--keep-text-model",
        action="store_true",
        help="transform with the stored TF-IDF model instead of fitting it again",
    )
    args = parser.parse_args(argv)
    return asyncio.run(run(Settings(), refit=not args.keep_text_model))


if __name__ == "__main__":
    sys.exit(main())
