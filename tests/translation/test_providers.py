"""The two providers: Apertium for real (short texts), and the HTTP one against a local
LibreTranslate (and DeepL) speaking over a socket."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from service.config import Settings
from service.translation.providers import (
    ApertiumTranslator,
    HttpTranslator,
    NoTranslator,
    TranslationFailed,
    translator_for,
)
from tests.translation import fake_libretranslate


class TestApertium:
    async def test_every_pair_translates_and_a_batch_comes_back_in_order(
        self, tmp_path: Path
    ) -> None:
        # Apertium itself, behind a script that notes each run's mode.
        runs = tmp_path / "runs"
        wrapper = tmp_path / "apertium"
        wrapper.write_text(f'#!/bin/sh\necho "$2" >> {runs}\nexec apertium "$@"\n')
        wrapper.chmod(0o755)
        apertium = ApertiumTranslator(binary=str(wrapper))
        for source in ("en", "es", "pt"):
            for target in ("en", "es", "pt"):
                assert apertium.supports(source, target) is (source != target)
        batch = ["Escuela", "Las farolas no funcionan.\n\nSegundo párrafo.", "Agua"]
        # A text that looks like the batch's markers makes each text go alone.
        tricky = ["[[[7]]] Escuela", "Agua"]
        # English and Portuguese go through Spanish: these two run all four modes.
        english = "The children arrive late to school."
        to_pt, to_es, to_en, many, alone = await asyncio.gather(
            apertium.translate(english, source="en", target="pt"),
            apertium.translate(english, source="en", target="es"),
            apertium.translate("As crianças chegam tarde à escola.", source="pt", target="en"),
            apertium.translate_many(batch, source="es", target="pt"),
            apertium.translate_many(tricky, source="es", target="pt"),
        )
        assert "escola" in to_pt.lower() and "school" in to_en.lower(), (to_pt, to_en)
        assert "escuela" in to_es.lower(), to_es
        # English to Spanish ran once for both targets.
        assert runs.read_text().split().count("eng-spa") == 1
        assert "*" not in to_pt + to_en  # unknown words are left as written, unmarked
        assert len(many) == 3
        assert "escola" in many[0].lower() and "água" in many[2].lower()
        assert "\n\n" in many[1]  # paragraphs survive
        assert len(alone) == 2 and "água" in alone[1].lower()
        with pytest.raises(TranslationFailed, match="no route"):
            await apertium.translate("Bonjour", source="fr", target="en")

    async def test_missing_program_and_timeout_fail_clearly(self) -> None:
        missing = ApertiumTranslator(binary="/nonexistent/apertium")
        with pytest.raises(TranslationFailed, match="cannot start"):
            await missing.translate("Hola", source="es", target="pt")
        slow = ApertiumTranslator(timeout_seconds=0.001)
        with pytest.raises(TranslationFailed, match="took more than"):
            await slow.translate("Hola " * 2000, source="es", target="pt")


class TestHttpProvider:
    async def test_libretranslate_and_deepl_over_a_socket(self) -> None:
        with fake_libretranslate.running(api_key="k-123") as fake:
            libre = HttpTranslator(flavour="libretranslate", url=fake.url + "/", api_key="k-123")
            assert libre.supports("es", "en") and not libre.supports("es", "es")
            out = await libre.translate("Farolas rotas en la calle Mayor", source="es", target="en")
            assert out == "Broken street lights on Main Street"
            assert fake.requests[-1] == {
                "q": "Farolas rotas en la calle Mayor",
                "source": "es",
                "target": "en",
                "format": "text",
                "api_key": "k-123",
            }
            many = await libre.translate_many(
                ["Farolas rotas en la calle Mayor", "Otra cosa"], source="es", target="pt"
            )
            assert many == ["Candeeiros partidos na rua Maior", "Otra cosa"]
            wrong_key = HttpTranslator(flavour="libretranslate", url=fake.url, api_key="nope")
            with pytest.raises(TranslationFailed, match="403: Invalid API key"):
                await wrong_key.translate("Hola", source="es", target="en")
            with pytest.raises(TranslationFailed, match="400: fr is not supported"):
                await libre.translate("Bonjour", source="fr", target="en")
            deepl = HttpTranslator(flavour="deepl", url=fake.url, api_key="k-123")
            assert (
                await deepl.translate("Broken street lights", source="en", target="es")
                == "Farolas rotas"
            )
            assert fake.requests[-1]["target_lang"] == "ES"
            assert fake.requests[-1]["authorization"] == "DeepL-Auth-Key k-123"
            await deepl.translate("Hello", source="es", target="pt")
            assert fake.requests[-1]["target_lang"] == "PT-PT"
        # A port nobody listens on.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
        gone = HttpTranslator(flavour="libretranslate", url=closed, timeout_seconds=2)
        with pytest.raises(TranslationFailed, match="unreachable"):
            await gone.translate("Hola", source="es", target="en")

    def test_settings_choose_the_provider(self) -> None:
        base = Settings()
        assert isinstance(translator_for(base), ApertiumTranslator)
        libre = translator_for(
            base.with_overrides(translator="libretranslate", translator_url="http://lt:5000")
        )
        assert isinstance(libre, HttpTranslator) and libre.name == "libretranslate"
        assert isinstance(translator_for(base.with_overrides(translator="none")), NoTranslator)
        with pytest.raises(ValueError, match="translator"):
            Settings(translator="google")  # type: ignore[arg-type]
