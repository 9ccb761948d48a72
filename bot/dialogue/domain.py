"""The dialogue domain: slots, rules, walkthroughs, forms and responses, read from data/.

Every *.yml in data/flows/ and data/responses/ is merged, one file per user journey, so
people can edit a journey without wading through the others. Mistakes (a rule naming a
missing response, a duplicate walkthrough) fail at start-up with the file named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

# libyaml's safe loader when PyYAML has it (ten times faster): read at every start.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STEP_KINDS = ("utter", "article", "action", "form", "walkthrough", "set")


@dataclass(frozen=True)
class Step:
    kind: str
    value: Any


@dataclass(frozen=True)
class Condition:
    intents: frozenset[str] | None = None
    slots: tuple[tuple[str, Any], ...] = ()
    entities: frozenset[str] = frozenset()
    question: bool | None = None  # the message is (True) or is not (False) worded as a question


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition
    do: tuple[Step, ...]
    # A rule that asks the user something must not be followed by a "resume?" offer.
    asks: bool = False
    source: str = ""
    # A question the KB answers well (min_score) is answered from it instead, e.g. before
    # "that's outside what I can help with".
    try_kb: bool = False


@dataclass(frozen=True)
class Walkthrough:
    name: str
    title: str
    steps: tuple[tuple[Step, ...], ...]
    done: tuple[Step, ...]
    topic: str | None = None  # the KB article a question asked during it is answered from first


@dataclass(frozen=True)
class SlotMapping:
    from_entity: str | None = None
    from_text: bool = False
    intent: frozenset[str] | None = None
    not_intent: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Form:
    name: str
    required_slots: tuple[str, ...]
    mappings: dict[str, tuple[SlotMapping, ...]]
    submit: tuple[Step, ...]
    topic: str | None = None                 # KB article for questions asked mid-form
    optional: frozenset[str] = frozenset()   # slots "skip that" may leave empty
    cancelled: tuple[Step, ...] = ()         # what a cancel does and says (default: utter_form_cancelled)


@dataclass
class Domain:
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    walkthroughs: dict[str, Walkthrough] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
    walkthrough_buttons: list[dict[str, str]] = field(default_factory=list)
    intent_labels: dict[str, str] = field(default_factory=dict)
    # Conversation repair and understanding in context (see bot/dialogue/repair.py, answers.py).
    repair: dict[str, Any] = field(default_factory=dict)
    precedence: list[str] = field(default_factory=list)
    deciding_entities: dict[str, Any] = field(default_factory=dict)
    knowledge: dict[str, Any] = field(default_factory=dict)

    def as_rasa_domain(self) -> dict[str, Any]:
        """The domain dict handed to rasa-sdk actions (slots, forms, responses)."""
        return {
            "version": "3.1",
            "slots": {name: {"type": "any", "influence_conversation": False,
                             "mappings": [{"type": "custom"}]} for name in self.slots},
            "forms": {name: {"required_slots": list(f.required_slots)} for name, f in self.forms.items()},
            "responses": self.responses,
            "intents": sorted(self.intent_labels),
            "actions": [],
        }


def _steps(raw: Any, where: str) -> tuple[Step, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: steps must be a list")
    steps = []
    for item in raw:
        if isinstance(item, str):
            item = {"utter": item}
        if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in STEP_KINDS:
            raise ConfigError(f"{where}: each step is one of {', '.join(STEP_KINDS)}, got {item!r}")
        kind, value = next(iter(item.items()))
        steps.append(Step(kind, value))
    return tuple(steps)


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: 'when' must be a mapping")
    intents = raw.get("intent")
    if isinstance(intents, str):
        intents = [intents]
    slots = raw.get("slots") or {}
    if not isinstance(slots, dict):
        raise ConfigError(f"{where}: 'slots' must be a mapping")
    return Condition(
        intents=frozenset(intents) if intents else None,
        slots=tuple(sorted(slots.items())),
        entities=frozenset(raw.get("entities") or ()),
        question=raw.get("question"),
    )


def _mapping(raw: Any, where: str) -> SlotMapping:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a slot mapping must be a mapping")
    intent = raw.get("intent")
    not_intent = raw.get("not_intent") or ()
    return SlotMapping(
        from_entity=raw.get("from_entity"),
        from_text=bool(raw.get("from_text", False)),
        intent=frozenset([intent] if isinstance(intent, str) else intent) if intent else None,
        not_intent=frozenset([not_intent] if isinstance(not_intent, str) else not_intent),
    )


def _yaml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"dialogue data not found: {path}")
    # core.yml holds the catch-all rules, so it is read last.
    return sorted(path.glob("*.yml"), key=lambda p: (p.name == "core.yml", p.name))


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} must hold a mapping")
    return doc


def load_domain(flows_path: Path, responses_path: Path) -> Domain:
    domain = Domain()
    for path in _yaml_files(responses_path):
        for name, variants in (_read(path).get("responses") or {}).items():
            if name in domain.responses:
                raise ConfigError(f"{path}: response {name} is defined twice")
            if not isinstance(variants, list) or not variants:
                raise ConfigError(f"{path}: response {name} needs a list of variants")
            domain.responses[name] = variants
    for path in _yaml_files(flows_path):
        doc = _read(path)
        where = path.name
        for name, spec in (doc.get("slots") or {}).items():
            domain.slots[name] = dict(spec or {})
        for i, raw in enumerate(doc.get("rules") or []):
            rule_where = f"{where} rule {raw.get('name', i)}"
            domain.rules.append(Rule(
                name=str(raw.get("name", f"{path.stem}_{i}")),
                when=_condition(raw.get("when"), rule_where),
                do=_steps(raw.get("do"), rule_where),
                asks=bool(raw.get("asks", False)),
                source=where,
                try_kb=bool(raw.get("try_kb", False)),
            ))
        for name, raw in (doc.get("walkthroughs") or {}).items():
            if name in domain.walkthroughs:
                raise ConfigError(f"{where}: walkthrough {name} is defined twice")
            steps = tuple(_steps(s if isinstance(s, list) else [s], f"{where} {name}") for s in raw.get("steps") or [])
            if not steps:
                raise ConfigError(f"{where}: walkthrough {name} has no steps")
            domain.walkthroughs[name] = Walkthrough(name, str(raw.get("title", name)), steps,
                                                    _steps(raw.get("done"), f"{where} {name}"),
                                                    topic=raw.get("topic"))
        for name, raw in (doc.get("forms") or {}).items():
            required = tuple(raw.get("required_slots") or ())
            mappings = {
                slot: tuple(_mapping(m, f"{where} {name}.{slot}") for m in ms)
                for slot, ms in (raw.get("mappings") or {}).items()
            }
            for slot in required:
                domain.slots.setdefault(slot, {})
            domain.forms[name] = Form(name, required, mappings, _steps(raw.get("submit"), f"{where} {name}"),
                                      topic=raw.get("topic"), optional=frozenset(raw.get("optional") or ()),
                                      cancelled=_steps(raw.get("cancelled"), f"{where} {name} cancelled"))
        for name, phrases in (doc.get("commands") or {}).items():
            domain.commands.setdefault(name, []).extend(phrases)
        if doc.get("walkthrough_buttons"):
            domain.walkthrough_buttons = list(doc["walkthrough_buttons"])
        domain.intent_labels.update(doc.get("intent_labels") or {})
        for key in ("repair", "deciding_entities", "knowledge"):
            getattr(domain, key).update(doc.get(key) or {})
        if doc.get("precedence"):
            domain.precedence = [str(name) for name in doc["precedence"]]
    _check_references(domain)
    return domain


def _check_references(domain: Domain) -> None:
    def check(steps: tuple[Step, ...], where: str) -> None:
        for step in steps:
            if step.kind == "utter" and step.value not in domain.responses:
                raise ConfigError(f"{where}: unknown response {step.value}")
            if step.kind == "walkthrough" and step.value not in domain.walkthroughs:
                raise ConfigError(f"{where}: unknown walkthrough {step.value}")
            if step.kind == "form" and step.value not in domain.forms:
                raise ConfigError(f"{where}: unknown form {step.value}")

    for rule in domain.rules:
        check(rule.do, f"{rule.source} rule {rule.name}")
    for wt in domain.walkthroughs.values():
        for i, step in enumerate(wt.steps):
            check(step, f"walkthrough {wt.name} step {i + 1}")
        check(wt.done, f"walkthrough {wt.name} done")
    for form in domain.forms.values():
        check(form.submit, f"form {form.name}")
        check(form.cancelled, f"form {form.name} cancelled")
