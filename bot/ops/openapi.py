"""The OpenAPI 3 description of the public HTTP API, served at ``/openapi.json``.

Written by hand beside the routes it describes (bot/channels/rest.py, web.py,
bot/knowledge/views.py, bot/ops/views.py); tests/test_fuzz_http.py runs schemathesis
against it, so a route that drifts from its description fails there. Twilio's signed
webhooks, the SSE stream and the development pages are left out: they are not an API
for clients to call.
"""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_SENDER = {"name": "sender", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": r"^[\w.@:+\-]{1,255}$", "maxLength": 255}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Bad request", 401: "A valid API token is required", 404: "Not found",
            413: "Body too large", 422: "A field is missing or malformed", 429: "Rate limited",
            503: "A service is unavailable"}
    return {str(code): {"description": text[code], **_json(_ERROR)} for code in codes}


def openapi_schema(*, server_url: str | None = None) -> dict[str, Any]:
    bot_message = {
        "type": "object",
        "required": ["recipient_id"],
        "properties": {
            "recipient_id": {"type": "string"},
            "text": {"type": "string"},
            "buttons": {"type": "array", "items": {
                "type": "object", "required": ["title", "payload"],
                "properties": {"title": {"type": "string"}, "payload": {"type": "string"}}}},
            "image": {"type": "string"},
            "custom": {"type": "object"},
        },
    }
    parse_result = {
        "type": "object",
        "required": ["text", "intent", "entities", "intent_ranking"],
        "properties": {
            "text": {"type": "string"},
            "intent": {"type": "object", "required": ["name", "confidence"],
                       "properties": {"name": {"type": "string"}, "confidence": {"type": "number"}}},
            "entities": {"type": "array", "items": {"type": "object", "required": ["entity", "value"]}},
            "intent_ranking": {"type": "array", "items": {"type": "object"}},
        },
    }
    schema: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "MFA Help Desk Assistant", "version": "1.0",
                 "description": "Rasa-compatible chat API, knowledge base and operations endpoints."},
        "paths": {
            "/health": {"get": {"summary": "Liveness", "responses": {
                "200": {"description": "The process is up", **_json({"type": "object"})}}}},
            "/ready": {"get": {"summary": "Readiness (database, migrations, NLU model, Redis)", "responses": {
                "200": {"description": "Ready for traffic", **_json({"$ref": "#/components/schemas/Ready"})},
                "503": {"description": "Not ready; `checks` says why",
                        **_json({"$ref": "#/components/schemas/Ready"})}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {
                "200": {"description": "Text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/webhooks/rest/webhook": {"post": {
                "summary": "Send a user message (Rasa REST channel)",
                "requestBody": {"required": True, **_json({
                    "type": "object", "required": ["sender", "message"],
                    "properties": {"sender": _SENDER["schema"], "message": {"type": "string"},
                                   "metadata": {"type": "object"}}})},
                "responses": {"200": {"description": "The bot's replies",
                                      **_json({"type": "array", "items": bot_message})},
                              **_errors(400, 413, 422, 503)}}},
            "/model/parse": {"post": {
                "summary": "Parse text with the NLU model",
                "requestBody": {"required": True, **_json({
                    "type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}})},
                "responses": {"200": {"description": "Intent and entities", **_json(parse_result)},
                              **_errors(400, 413, 422)}}},
            "/conversations/{sender}/tracker": {"get": {
                "summary": "The conversation's tracker (slots, events)",
                "parameters": [_SENDER], "security": [{"bearer": []}, {}],
                "responses": {"200": {"description": "Rasa-style tracker", **_json({
                    "type": "object", "required": ["sender_id", "slots", "events"]})},
                    **_errors(401, 404, 422)}}},
            "/conversations/{sender}/messages": {"get": {
                "summary": "The conversation's messages after an id (history, polling)",
                "parameters": [_SENDER, {"name": "after", "in": "query", "required": False,
                                         "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Messages", **_json({
                    "type": "object", "required": ["sender_id", "messages"],
                    "properties": {"messages": {"type": "array", "items": {"type": "object"}}}})},
                    **_errors(400, 404, 422)}}},
            "/conversations/{sender}/trigger_intent": {"post": {
                "summary": "Start a turn with an intent (Rasa trigger_intent)",
                "parameters": [_SENDER], "security": [{"bearer": []}, {}],
                "requestBody": {"required": True, **_json({
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "entities": {"type": "object"}}})},
                "responses": {"200": {"description": "The bot's replies", **_json({
                    "type": "object", "required": ["messages"],
                    "properties": {"messages": {"type": "array", "items": bot_message}}})},
                    **_errors(400, 401, 413, 422, 503)}}},
            "/kb/search": {"get": {
                "summary": "Search the knowledge base",
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                               {"name": "limit", "in": "query", "required": False,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Ranked articles", **_json({
                    "type": "object", "required": ["query", "results"]})}, **_errors(400)}}},
            "/kb/articles/{article_id}": {"get": {
                "summary": "One knowledge-base article",
                "parameters": [{"name": "article_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The article", **_json({
                    "type": "object", "required": ["id", "title", "markdown", "html"]})},
                    **_errors(404)}}},
        },
        "components": {
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {}}},
                "Ready": {"type": "object", "required": ["ready", "checks"], "properties": {
                    "ready": {"type": "boolean"}, "checks": {"type": "object"}}},
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        schema["servers"] = [{"url": server_url}]
    return schema
