"""The participant API described as OpenAPI 3 (shared/API.md), served at /api/v1/openapi.json.

One dict, kept beside the API it describes; tests/test_api_schema.py fuzzes the API against it.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__)

_ID = {"type": "integer", "minimum": 1}
_TIME = {"type": "string", "format": "date-time"}
_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}},
}
_ANSWER = {
    "description": "单选 [\"B\"]；多选 [\"A\", \"C\"]；判断 true/false；填空 \"上海\"",
    "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "boolean"}, {"type": "string"}],
}
_CONTEST = {
    "type": "object",
    "required": ["id", "title", "starts_at", "ends_at", "time_limit_s", "question_count", "attempts_per_day", "status"],
    "properties": {
        "id": _ID, "title": {"type": "string"}, "starts_at": _TIME, "ends_at": _TIME,
        "time_limit_s": {"type": "integer"}, "question_count": {"type": "integer"},
        "attempts_per_day": {"type": "integer"}, "status": {"type": "string"},
    },
}
_QUESTION = {
    "type": "object",
    "required": ["id", "type", "stem", "options"],
    "properties": {
        "id": _ID, "type": {"enum": ["single", "multiple", "judge", "fill"]}, "stem": {"type": "string"},
        "options": {"type": "array", "items": {"type": "string"}},
    },
}
_ATTEMPT = {
    "type": "object",
    "required": ["attempt_id", "deadline", "server_time", "questions"],
    "properties": {"attempt_id": _ID, "deadline": _TIME, "server_time": _TIME,
                   "questions": {"type": "array", "items": _QUESTION}},
}
_RESULT = {
    "type": "object",
    "required": ["score", "max_score", "correct", "duration_ms", "best_score", "rank", "review"],
    "properties": {
        "score": {"type": "number"}, "max_score": {"type": "number"}, "correct": {"type": "integer"},
        "duration_ms": {"type": "integer"}, "best_score": {"type": "number"}, "rank": {"type": ["integer", "null"]},
        "review": {"type": "array", "items": {"type": "object", "required": ["id", "answer", "correct_answer",
                                                                            "is_correct", "explanation"]}},
    },
}
_BOARD = {
    "type": "object",
    "required": ["entries", "participants", "updated_at"],
    "properties": {
        "entries": {"type": "array", "items": {
            "type": "object", "required": ["rank", "name", "unit", "score", "duration_ms"],
            "properties": {"rank": {"type": "integer"}, "name": {"type": "string"}, "unit": {"type": "string"},
                           "score": {"type": "number"}, "duration_ms": {"type": "integer"}}}},
        "participants": {"type": "integer"},
        "updated_at": {"type": ["string", "null"]},
    },
}
_UNIT_STATS = {
    "type": "array",
    "items": {"type": "object", "required": ["unit_id", "name", "headcount", "participants", "attempts",
                                             "participation_rate", "avg_best_score"]},
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {str(status): {"$ref": "#/components/responses/Error"} for status in statuses}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


_BEARER = [{"bearer": []}]

DOCUMENT: dict = {
    "openapi": "3.0.3",
    "info": {"title": "竞答 participant API", "version": "1",
             "description": "Every error answers {\"error\", \"message\"} with a Chinese message; never HTML."},
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": _ERROR},
        "responses": {"Error": _json({"$ref": "#/components/schemas/Error"}, "an error with a Chinese message")},
    },
    "paths": {
        "/contests": {"get": {
            "operationId": "listContests",
            "responses": {"200": _json({"type": "array", "items": _CONTEST}, "open and upcoming contests")},
        }},
        "/contests/{cid}": {"get": {
            "operationId": "showContest", "parameters": [_path_id("cid")],
            "responses": {"200": _json(_CONTEST, "one contest"), **_errors(404)},
        }},
        "/contests/{cid}/units": {"get": {
            "operationId": "listUnits", "parameters": [_path_id("cid")],
            "responses": {"200": _json({"type": "array", "items": {
                "type": "object", "required": ["id", "name"],
                "properties": {"id": _ID, "name": {"type": "string"}}}}, "units for the picker"), **_errors(404)},
        }},
        "/contests/{cid}/entrants": {"post": {
            "operationId": "enter", "parameters": [_path_id("cid")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["name", "phone", "unit_id"],
                "properties": {"name": {"type": "string"}, "phone": {"type": "string", "pattern": "^1[0-9]{10}$"},
                               "unit_id": _ID}}}}},
            "responses": {"201": _json({"type": "object", "required": ["entrant_id", "token"],
                                        "properties": {"entrant_id": _ID, "token": {"type": "string"}}},
                                       "the entrant and a fresh token"),
                          **_errors(400, 403, 404, 429)},
        }},
        "/contests/{cid}/attempts": {"post": {
            "operationId": "startAttempt", "parameters": [_path_id("cid")], "security": _BEARER,
            "responses": {"201": _json(_ATTEMPT, "a new attempt"), "200": _json(_ATTEMPT, "the unfinished attempt"),
                          **_errors(401, 403, 404, 429)},
        }},
        "/attempts/{aid}": {"get": {
            "operationId": "showAttempt", "parameters": [_path_id("aid")], "security": _BEARER,
            "responses": {"200": _json(_ATTEMPT, "the attempt with saved answers"), **_errors(401, 403, 404)},
        }},
        "/attempts/{aid}/answers/{qid}": {"put": {
            "operationId": "saveAnswer", "parameters": [_path_id("aid"), _path_id("qid")], "security": _BEARER,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["answer"], "properties": {"answer": _ANSWER}}}}},
            "responses": {"200": _json({"type": "object", "required": ["saved"],
                                        "properties": {"saved": {"type": "boolean"}}}, "saved"),
                          **_errors(400, 401, 403, 404, 409, 429)},
        }},
        "/attempts/{aid}/submit": {"post": {
            "operationId": "submit", "parameters": [_path_id("aid")], "security": _BEARER,
            "responses": {"200": _json(_RESULT, "the result with review"), **_errors(401, 403, 404)},
        }},
        "/contests/{cid}/leaderboard": {"get": {
            "operationId": "leaderboard",
            "parameters": [_path_id("cid"), {"name": "limit", "in": "query", "required": False,
                                             "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
            "responses": {"200": _json(_BOARD, "names masked, no phone numbers"), **_errors(400, 404)},
        }},
        "/contests/{cid}/units/stats": {"get": {
            "operationId": "unitStats", "parameters": [_path_id("cid")],
            "responses": {"200": _json(_UNIT_STATS, "participation by unit"), **_errors(404)},
        }},
    },
}


@bp.get("/api/v1/openapi.json")
def document():
    return jsonify(DOCUMENT)
