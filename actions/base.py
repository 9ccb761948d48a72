"""What every custom action shares: the Services container, injected or built lazily.

In-process, the engine passes the app's Services. Under the standalone rasa-sdk action
server (`python -m rasa_sdk --actions actions`) classes are built without arguments, so
the container is created from the environment on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rasa_sdk import Action

if TYPE_CHECKING:
    from bot.services.container import Services


class ServiceAction(Action):
    def __init__(self, services: "Services | None" = None) -> None:
        self._services = services

    @property
    def services(self) -> "Services":
        if self._services is None:
            from bot.composition import services_from_environment

            self._services = services_from_environment()
        return self._services
