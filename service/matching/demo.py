"""Demo data of the matching area: deal-flow profiles, two investors' theses, and the
rankings computed from them (after the challenges and rewards steps, so that the track records
of the demo's winners count)."""

from __future__ import annotations

from typing import Any

from service.accounts.models import Organization
from service.config import Settings
from service.matching import service as matching
from service.matching.models import InvestorThesis, StartupProfile

PROFILES: dict[str, dict[str, Any]] = {
    "RutaViva Mobility": {
        "sectors": ["mobility", "digital_government"],
        "stage": "seed",
        "funding_ask_minor": 300_000_00,
        "region": "Valparaíso",
        "text": "Planificación de rutas de buses escolares con datos de tráfico en tiempo real; "
        "menos retrasos y menos emisiones en el transporte público.",
        "dealflow_opt_in": True,
        "share_scores": True,
    },
    "AguaClara Sensors": {
        "sectors": ["water", "environment"],
        "stage": "pre_seed",
        "funding_ask_minor": 150_000_00,
        "region": "Andalucía",
        "text": "Sensores de bajo coste para medir la calidad del agua de ríos y redes "
        "municipales, con alertas de contaminación.",
        "dealflow_opt_in": True,
        "share_scores": False,
    },
    "Recicla+ Tech": {
        "sectors": ["waste", "environment", "social_inclusion"],
        "stage": "series_a",
        "funding_ask_minor": 1_500_000_00,
        "region": "Paraná",
        "text": "Plataforma de coleta seletiva e reciclagem com cooperativas de catadores; "
        "rastreamento de resíduos para prefeituras.",
        "dealflow_opt_in": True,
        "share_scores": False,
    },
    "Universidad Técnica del Pacífico": {
        "sectors": ["energy", "mobility"],
        "stage": "idea",
        "funding_ask_minor": None,  # only startups ask for funding
        "region": "Valparaíso",
        "text": "Baterías de segunda vida para buses eléctricos y almacenamiento de energía "
        "solar en el puerto.",
        "dealflow_opt_in": True,
        "share_scores": False,
    },
    "Instituto de Energia Limpa": {
        "sectors": ["energy"],
        "stage": "pre_seed",
        "funding_ask_minor": None,  # only startups ask for funding
        "region": "São Paulo",
        "text": "Energia solar em escolas públicas e microrredes para bairros de baixa renda.",
        "dealflow_opt_in": False,
        "share_scores": False,
    },
}
THESES: dict[str, dict[str, Any]] = {
    "Andes Impact Ventures": {
        "sectors": ["mobility", "energy", "environment"],
        "stages": ["pre_seed", "seed"],
        "ticket_min_minor": 100_000_00,
        "ticket_max_minor": 1_000_000_00,
        "regions": ["Valparaíso", "Santiago"],
        "text": "Movilidad urbana limpia y energía para ciudades de los Andes: buses eléctricos, "
        "tráfico, transporte público.",
    },
    "Atlántico Seed Partners": {
        "sectors": ["water", "waste", "environment"],
        "stages": ["pre_seed", "seed", "series_a"],
        "ticket_min_minor": 50_000_00,
        "ticket_max_minor": 2_000_000_00,
        "regions": ["Andalucía", "Madrid", "Paraná"],
        "text": "Agua, residuos y economía circular: reciclaje, calidad del agua, sensores.",
    },
}


async def seed_matching(settings: Settings) -> None:
    for name, values in PROFILES.items():
        org = await Organization.get(name=name)
        await StartupProfile.create(organization=org, **values)
    for name, values in THESES.items():
        org = await Organization.get(name=name)
        await InvestorThesis.create(organization=org, **values)
    await matching.recompute_all(settings=settings)
