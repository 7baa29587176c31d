"""ASVS V13.2 (least privilege): the container image runs the app as an unprivileged user."""

from __future__ import annotations

from service.config import ROOT


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


class TestContainerUser:
    def test_the_last_user_before_the_command_is_not_root(self) -> None:
        instructions = _instructions()
        keywords = [keyword for keyword, _ in instructions]
        assert "CMD" in keywords
        users = [
            rest for keyword, rest in instructions[: keywords.index("CMD")] if keyword == "USER"
        ]
        assert users, "the image runs as root: no USER before CMD"
        name = users[-1].split(":")[0]
        assert name not in {"root", "0"}

    def test_the_user_owns_the_data_folder_only(self) -> None:
        runs = " ".join(rest for keyword, rest in _instructions() if keyword == "RUN")
        assert "chown civic:civic /app/var" in runs
        assert "chown -R" not in runs, "the code must stay read-only to the app's user"
