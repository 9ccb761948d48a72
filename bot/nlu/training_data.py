"""Reads Rasa 3 NLU YAML: intents with annotated examples, synonyms, regexes and lookups."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

# libyaml's safe loader when PyYAML has it: the server reads data/nlu.yml at every start.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# [text](entity), [text](entity:value) and [text]{"entity": "...", "value": "..."}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class EntitySpan:
    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # lowercased variant -> canonical
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})


def parse_example(raw: str, intent: str) -> Example:
    """Strip annotations from one example line, keeping character offsets of entities."""
    parts: list[str] = []
    spans: list[EntitySpan] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(raw):
        before = raw[cursor : match.start()]
        parts.append(before)
        length += len(before)
        text = match.group("text")
        if match.group("json"):
            try:
                meta: dict[str, Any] = json.loads(match.group("json"))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"bad entity annotation in {raw!r}: {exc}") from exc
            entity, value = str(meta.get("entity", "")), str(meta.get("value", text))
        else:
            entity, _, value = match.group("short").partition(":")
            value = value or text
        if not entity:
            raise ConfigError(f"entity annotation without a name in {raw!r}")
        spans.append(EntitySpan(entity=entity.strip(), value=value.strip(), start=length,
                                end=length + len(text), text=text))
        parts.append(text)
        length += len(text)
        cursor = match.end()
    parts.append(raw[cursor:])
    return Example(text="".join(parts).strip(), intent=intent, entities=tuple(spans))


def _items(block: Any, where: str) -> list[str]:
    if not isinstance(block, str):
        raise ConfigError(f"{where}: 'examples' must be a block of '- ' lines")
    items = []
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line == "-":
            continue
        elif line:
            raise ConfigError(f"{where}: example line must start with '- ': {line!r}")
    return items


def load_training_data(*paths: Path) -> TrainingData:
    data = TrainingData()
    for path in paths:
        try:
            doc = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read NLU data {path}: {exc}") from exc
        for i, entry in enumerate(doc.get("nlu") or []):
            where = f"{path} entry {i}"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: must be a mapping")
            items = _items(entry.get("examples"), where)
            if "intent" in entry:
                intent = str(entry["intent"])
                data.examples.extend(parse_example(item, intent) for item in items)
            elif "synonym" in entry:
                canonical = str(entry["synonym"])
                for item in items:
                    data.synonyms[item.lower()] = canonical
            elif "regex" in entry:
                data.regexes.setdefault(str(entry["regex"]), []).extend(items)
            elif "lookup" in entry:
                data.lookups.setdefault(str(entry["lookup"]), []).extend(items)
            else:
                raise ConfigError(f"{where}: expected intent, synonym, regex or lookup")
    # Annotated values count as synonyms too (Rasa does the same with [text](entity:value)).
    for example in data.examples:
        for span in example.entities:
            if span.value != span.text:
                data.synonyms.setdefault(span.text.lower(), span.value)
    return data
