"""Every public body of the open data area, fetched for searching."""

from __future__ import annotations

import httpx

from service.opendata.datasets import DATASETS

V1 = "/api/v1/opendata"


async def public_bodies(
    client: httpx.AsyncClient, challenge_ids: list[int], city_ids: list[int]
) -> dict[str, str]:
    urls = [d.url for d in DATASETS]
    urls += [f"{V1}/ocds", f"{V1}/dashboard", f"{V1}/ecosystem"]
    urls += ["/opendata", "/opendata/dashboard", "/opendata/ecosystem"]
    urls += [f"{V1}/ocds/{c}" for c in challenge_ids]
    urls += [f"/challenges/{c}" for c in challenge_ids]
    urls += [f"{V1}/cities/{c}/dashboard" for c in city_ids]
    urls += [f"/opendata/cities/{c}" for c in city_ids]
    found = {}
    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, (url, response.text[:200])
        found[url] = response.text
    return found
