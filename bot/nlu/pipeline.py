"""The NLU pipeline of config.yml, Rasa style: component names and their options.

    pipeline:
      - name: EntityExtractors          # rules: regexes, phrase lists, phonenumbers
      - name: TfidfVectorizer           # scikit-learn's, options passed through
        analyzer: word
        ngram_range: [1, 2]
      - name: TfidfVectorizer
        analyzer: char_wb
        ngram_range: [2, 5]
      - name: EntityTypeFeatures        # one binary column per entity type found
      - name: LogisticRegression        # scikit-learn's, options passed through
        C: 10

Only options that the numpy serving code (bot/nlu/vectors.py) reproduces are accepted,
so a model that trains is a model that serves. No scikit-learn import here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from bot.errors import ConfigError

# TfidfVectorizer options that bot/nlu/vectors.py applies faithfully at serving time.
TFIDF_OPTIONS = frozenset({"analyzer", "ngram_range", "min_df", "max_df", "max_features", "sublinear_tf",
                           "binary", "norm", "use_idf", "smooth_idf", "token_pattern", "lowercase"})
LINEAR_OPTIONS = frozenset({"C", "class_weight", "max_iter", "tol", "solver"})
DEFAULT_PIPELINE: tuple[dict[str, Any], ...] = (
    {"name": "EntityExtractors"},
    {"name": "TfidfVectorizer", "analyzer": "word", "ngram_range": [1, 2], "sublinear_tf": True},
    {"name": "TfidfVectorizer", "analyzer": "char_wb", "ngram_range": [2, 5], "sublinear_tf": True},
    {"name": "EntityTypeFeatures"},
    {"name": "LogisticRegression", "C": 10.0},
)


@dataclass(frozen=True)
class PipelineSpec:
    vectorizers: tuple[dict[str, Any], ...]
    entity_type_features: bool
    classifier: dict[str, Any] = field(default_factory=dict)
    call_failure_classifier: bool = True
    crf: dict[str, Any] | None = None  # CRFEntityExtractor options, when the pipeline has one


def parse_pipeline(steps: Sequence[dict[str, Any]]) -> PipelineSpec:
    steps = list(steps) or list(DEFAULT_PIPELINE)
    vectorizers: list[dict[str, Any]] = []
    classifier: dict[str, Any] | None = None
    crf: dict[str, Any] | None = None
    entity_types = False
    for step in steps:
        name = step.get("name")
        options = {k: v for k, v in step.items() if k != "name"}
        if name == "EntityExtractors":
            continue
        if name == "TfidfVectorizer":
            unknown = set(options) - TFIDF_OPTIONS
            if unknown:
                raise ConfigError(f"nlu.pipeline TfidfVectorizer: unsupported options {sorted(unknown)}")
            if options.get("analyzer", "word") not in ("word", "char", "char_wb"):
                raise ConfigError("nlu.pipeline TfidfVectorizer: analyzer must be word, char or char_wb")
            if "ngram_range" in options:
                options["ngram_range"] = tuple(int(x) for x in options["ngram_range"])
            vectorizers.append(options)
        elif name == "EntityTypeFeatures":
            entity_types = True
        elif name == "CRFEntityExtractor":
            crf = options
        elif name == "LogisticRegression":
            unknown = set(options) - LINEAR_OPTIONS
            if unknown:
                raise ConfigError(f"nlu.pipeline LogisticRegression: unsupported options {sorted(unknown)}")
            classifier = options
        else:
            raise ConfigError(f"nlu.pipeline: unknown component {name!r}")
    if not vectorizers or classifier is None:
        raise ConfigError("nlu.pipeline needs at least one TfidfVectorizer and a LogisticRegression")
    return PipelineSpec(vectorizers=tuple(vectorizers), entity_type_features=entity_types,
                        classifier=classifier, crf=crf)
