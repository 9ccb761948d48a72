"""Text in, Rasa-style parse data out: intent, ranking and entities."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.nlu.entities import CANONICAL, EntityExtractor
from bot.nlu.model import NLUModel
from bot.nlu.training_data import TrainingData

# "/intent" or '/intent{"entity": "value"}' -- button payloads, as in Rasa.
_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<entities>\{.*\})?$", re.DOTALL)
# Intents a call-failure value makes sense for; elsewhere the head is not consulted.
_CALL_FAILURE_INTENTS = frozenset({"call_problem", "report_error"})
_CALL_FAILURE_MIN_CONFIDENCE = 0.55
# "It timed out" about an activation code, or "my carrier drops calls", is no MFA call failure.
_NO_CALL_FAILURE_INTENTS = frozenset({"new_activation_code", "out_of_scope"})


class Interpreter:
    def __init__(self, model: NLUModel, data: TrainingData) -> None:
        self.model = model
        self.extractor = EntityExtractor(data)
        self.intent_names = frozenset(model.intents.labels)

    def parse(self, text: str) -> dict[str, Any]:
        payload = _PAYLOAD.match(text.strip())
        if payload:
            return self._parse_payload(text.strip(), payload)
        entities = self.extractor.extract(text)
        indices, values = self.model.row(text, entities)
        ranking = self.model.intents.rank(indices, values)
        intent, confidence = ranking[0]
        found = [e.as_dict() for e in entities
                 if not (e.entity == "call_failure" and intent in _NO_CALL_FAILURE_INTENTS)]
        if (
            intent in _CALL_FAILURE_INTENTS
            and self.model.call_failures is not None
            and not any(e["entity"] == "call_failure" for e in found)
            and not any(e["entity"] == "error_code" for e in found)
        ):
            value, p = self.model.call_failures.rank(indices, values)[0]
            if intent == "call_problem" and p >= _CALL_FAILURE_MIN_CONFIDENCE:
                found.append({"entity": "call_failure", "value": value, "start": 0, "end": len(text),
                              "extractor": "LogisticRegressionCallFailure", "confidence": round(p, 4)})
        return {
            "text": text,
            "intent": {"name": intent, "confidence": round(confidence, 4)},
            "entities": found,
            "intent_ranking": [{"name": n, "confidence": round(c, 4)} for n, c in ranking[:10]],
        }

    def _parse_payload(self, text: str, match: re.Match[str]) -> dict[str, Any]:
        entities: list[dict[str, Any]] = []
        raw = match.group("entities")
        if raw:
            try:
                values = json.loads(raw)
            except (json.JSONDecodeError, RecursionError):  # RecursionError: a payload nested 1,000+ deep
                values = None
            if isinstance(values, dict):
                for name, value in values.items():
                    if not isinstance(name, str) or not isinstance(value, (str, int, float, bool)):
                        continue
                    # A payload may not smuggle in a value outside an entity's canonical set.
                    if name in CANONICAL and str(value) not in CANONICAL[name]:
                        continue
                    entities.append({"entity": name, "value": value, "start": 0, "end": len(text),
                                     "extractor": "payload"})
        intent = match.group("intent")
        return {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities,
            "intent_ranking": [{"name": intent, "confidence": 1.0}],
            "is_payload": True,
        }
