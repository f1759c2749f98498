"""The HTTP API described once, as OpenAPI 3.1 (:data:`SPEC`), and the human-readable page made from it
(:func:`page`: plain HTML, served by the app itself, nothing fetched from elsewhere)."""

from __future__ import annotations

import html
from typing import Any

from ocr.exports import FORMATS

PROBLEM = {"description": "A problem (RFC 9457): `detail` is one sentence saying what went wrong.",
           "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
DOCUMENT_FIELDS: dict[str, Any] = {
    "engine": {"type": "string", "description": "tesseract, ppocr or auto (the best of both; the default)."},
    "lang": {"type": "string", "description": "Tesseract's language codes, e.g. eng or deu+eng."},
    "settings": {"type": "string", "description": "The clean-up settings as a preset's JSON (the app's "
                 "'Download preset'): {\"settings\": {...}, \"options\": {...}}."},
    "autotune": {"type": "boolean", "description": "Let auto-tune choose the settings for each page first."},
    "pages": {"type": "string", "description": "Pages of a PDF or TIFF to read, from 1: e.g. 1-3,5. Default: all."},
}
FORMAT = {"name": "format", "in": "query", "schema": {"type": "string", "enum": list(FORMATS)},
          "description": "txt, json, csv, hocr or pdf (a searchable PDF); or say it in Accept. Default: json."}
BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "The document: an image or a PDF."},
        **DOCUMENT_FIELDS}}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "image/*": {"schema": {"type": "string", "format": "binary"}}}}
QUERY = [{"name": name, "in": "query", "schema": schema, "description": schema["description"] + " (with a raw body)"}
         for name, schema in DOCUMENT_FIELDS.items()]
ERRORS = {str(code): PROBLEM for code in (400, 401, 403, 413, 422, 429)}
JOB_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}
JOB = {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": "string"},
    "state": {"type": "string", "enum": ["queued", "running", "done", "cancelled", "interrupted"]},
    "pages": {"type": "integer"}, "done": {"type": "integer"}, "failed": {"type": "integer"},
    "seconds_left": {"type": ["number", "null"]}, "links": {"type": "object"}}}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "OCR Workbench API", "version": "1",
             "description": "Send a page or a document, get its text. Runs in the app's own process."},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/read": {"post": {
            "summary": "Read a document now and answer with its text",
            "parameters": [FORMAT, *QUERY, {"name": "name", "in": "query", "schema": {"type": "string"},
                                            "description": "The file's name (with a raw body)."}],
            "requestBody": BODY,
            "responses": {"200": {"description": "The document's text in the format asked for.", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Reading"}},
                "text/plain": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}, **ERRORS}}},
        "/jobs": {"post": {
            "summary": "Start reading a long document; ask for it later",
            "parameters": QUERY, "requestBody": BODY,
            "responses": {"202": {"description": "The job, queued.",
                                  "headers": {"Location": {"schema": {"type": "string"}}}, "content": JOB_JSON},
                          **ERRORS, "503": PROBLEM}}},
        "/jobs/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"summary": "A job's progress, or with format= its result once it is done",
                    "parameters": [FORMAT],
                    "responses": {"200": {"description": "Progress (JSON), or the result in the format asked for.",
                                          "content": JOB_JSON},
                                  "404": PROBLEM, "409": PROBLEM, "401": PROBLEM}},
            "delete": {"summary": "Cancel a job",
                       "responses": {"200": {"description": "The job, cancelled.", "content": JOB_JSON},
                                     "404": PROBLEM, "401": PROBLEM}}},
        "/health": {"get": {"summary": "Engines, workers, the queue and the store",
                            "responses": {"200": {"description": "The server's state.",
                                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/engines": {"get": {"summary": "The engines, their versions and the languages installed for them",
                             "responses": {"200": {"description": "Every engine.",
                                                   "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Problem": {"type": "object", "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                                         "status": {"type": "integer"}, "detail": {"type": "string"}}},
            "Job": JOB,
            "Reading": {"type": "object", "properties": {
                "name": {"type": "string"},
                "pages": {"type": "array", "items": {"type": "object", "properties": {
                    "page": {"type": "integer"}, "text": {"type": "string"}, "engine": {"type": "string"},
                    "mean_confidence": {"type": "number"}, "words": {"type": "array", "items": {"type": "object"}},
                    "error": {"type": "string"}}}},
                "errors": {"type": "array", "items": {"type": "object"}}}},
        },
    },
}


def page() -> str:
    """The API's reference as one plain HTML page, made from :data:`SPEC`."""
    rows = []
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            listed = "".join(f"<li><code>{html.escape(p['name'])}</code> ({p['in']}): "
                             f"{html.escape(p.get('description', ''))}</li>" for p in params)
            if "requestBody" in op:
                listed += "<li>the document: the form's <code>file</code> field (multipart) or the body itself</li>"
            codes = ", ".join(f"{code} {html.escape(r['description'])}" for code, r in op["responses"].items())
            rows.append(f"<h2><code>{method.upper()} /api/v1{html.escape(path)}</code></h2>"
                        f"<p>{html.escape(op['summary'])}.</p><ul>{listed}</ul><p>Answers: {codes}</p>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>OCR Workbench API</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
            "code{background:#f3f4f6;padding:0 .2em}@media (prefers-color-scheme: dark){body{background:#111;"
            "color:#eee}code{background:#333}}</style></head><body><h1>OCR Workbench API</h1>"
            f"<p>{html.escape(SPEC['info']['description'])} Every request carries "
            "<code>Authorization: Bearer TOKEN</code> (a token the server's <code>OCR_WORKBENCH_API_TOKEN</code> "
            "names). Errors are problem details (RFC 9457). The machine-readable description: "
            "<a href='/api/v1/openapi.json'>openapi.json</a>.</p>" + "".join(rows) + "</body></html>")
