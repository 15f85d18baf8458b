"""The terminal API's OpenAPI 3.1 document (served at /api/v1/openapi.json).

Kept as data beside the views; a test checks that every API route of the blueprint is
documented with its methods, and that the document validates (openapi-spec-validator)."""
from __future__ import annotations

from copy import deepcopy


def _json(schema_ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _problem(description: str) -> dict:
    return {"description": description, **_json("Problem")}


BEARER = [{"terminalRequest": []}]

COMMON_ERRORS = {
    "401": _problem("Bearer token missing, unknown or released"),
    "403": _problem("Refused (eligibility, hours); protected reasons read ask_at_counter"),
    "409": _problem("Step not allowed in the request's state"),
    "410": _problem("The request expired and was released"),
}

PATHS = {
    "/api/v1/sessions/challenge": {"post": {
        "operationId": "createChallenge", "summary": "Nonce for the card to sign",
        "description": "The terminal names the municipality whose certificates it asks for. "
                       "The card signs SHA256(origin)‖SHA256(nonce) with the user-authentication key.",
        "requestBody": {"required": True, **_json("ChallengeRequest")},
        "responses": {"200": {"description": "Challenge", **_json("Challenge")},
                      "400": _problem("Malformed request"),
                      "403": _problem("Closed (hours, 12/29–1/3, maintenance)"),
                      "404": _problem("Municipality unknown or not offering the service"),
                      "429": _problem("Too many requests")}}},
    "/api/v1/sessions": {"post": {
        "operationId": "startRequest", "summary": "Card token → bearer token for one issuance request",
        "requestBody": {"required": True, **_json("SessionRequest")},
        "responses": {"201": {"description": "Request started", **_json("Session")},
                      "400": _problem("Malformed request (terminal or request id)"),
                      "401": _problem("The card token does not prove the card: signature, "
                                      "nonce (used, expired, of another request), chain or revocation"),
                      "403": _problem("Card not registered, other municipality, or refused"),
                      "404": _problem("Municipality not offering the service"),
                      "429": _problem("Too many requests")}}},
    "/api/v1/request": {
        "get": {"operationId": "getRequest", "summary": "State of the request", "security": BEARER,
                "responses": {"200": {"description": "Request", **_json("IssuanceRequest")},
                              **COMMON_ERRORS}},
        "delete": {"operationId": "cancelRequest", "summary": "Cancel before payment (released)",
                   "security": BEARER,
                   "responses": {"200": {"description": "Cancelled", **_json("IssuanceRequest")},
                                 **COMMON_ERRORS}}},
    "/api/v1/request/quote": {"post": {
        "operationId": "quote", "summary": "Choose type and options; the fee is fixed",
        "security": BEARER, "requestBody": {"required": True, **_json("QuoteRequest")},
        "responses": {"200": {"description": "Quoted", **_json("IssuanceRequest")}, **COMMON_ERRORS}}},
    "/api/v1/request/payment": {"post": {
        "operationId": "confirmPayment",
        "summary": "Confirm the payment and issue, exactly once per idempotency key",
        "description": "Retrying with the same key returns the same certificate (200, replayed). "
                       "The key is bound to the body it first came with: the same key with another "
                       "body (another amount) is 409 IdempotencyKeyMismatch. "
                       "Another key on a paid request is 409 AlreadyPaid; a key used by another "
                       "request is 409 IdempotencyKeyReused. The key may instead come in an "
                       "Idempotency-Key header, as other payment APIs send it.",
        "security": BEARER,
        "requestBody": {"required": True, **_json("PaymentRequest")},
        "responses": {"201": {"description": "Paid and issued", **_json("Issued")},
                      "200": {"description": "The same confirmation again", **_json("Issued")},
                      "400": _problem("Malformed (no key, an amount that is not an integer)"),
                      **COMMON_ERRORS,
                      "409": _problem("Amount differs from the fee (AmountMismatch), the step is "
                                      "not allowed in this state, or the key is bound elsewhere")}}},
    "/api/v1/request/certificate.pdf": {"get": {
        "operationId": "getCertificatePdf", "summary": "The signed certificate (PAdES)",
        "security": BEARER,
        "responses": {"200": {"description": "PDF", "content": {"application/pdf": {
            "schema": {"type": "string", "contentMediaType": "application/pdf"}}}},
            "503": _problem("No signing key; or no time-stamp (timestamp_unavailable): the "
                            "certificate is voided and amount_refunded given back"),
            **COMMON_ERRORS}}},
    "/api/v1/request/outcome": {"post": {
        "operationId": "reportOutcome", "summary": "Printed or failed; the request is released",
        "description": "A failed print delivered nothing: the certificate is made void (the "
                       "verification page no longer confirms it) and the fee is refunded "
                       "(amount_refunded, to hand back to the resident).",
        "security": BEARER, "requestBody": {"required": True, **_json("OutcomeRequest")},
        "responses": {"200": {"description": "Recorded", **_json("Outcome")},
                      "400": _problem("result is neither printed nor failed"), **COMMON_ERRORS}}},
    "/api/v1/openapi.json": {"get": {
        "operationId": "getOpenApi", "summary": "This document",
        "responses": {"200": {"description": "OpenAPI document",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
}

STRING = {"type": "string"}
SCHEMAS = {
    "Problem": {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string", "description": "Stable code, e.g. ask_at_counter, outside_hours"},
        "message": {"type": "string", "description": "Japanese text for the screen"}}},
    "ChallengeRequest": {"type": "object", "required": ["municipality", "terminal_id"], "properties": {
        "municipality": {"type": "string", "pattern": "^[0-9]{6}$"},
        "terminal_id": {"type": "string", "pattern": "^[A-Za-z0-9_\\-.]{1,64}$"}}},
    "Challenge": {"type": "object", "required": ["request_id", "nonce", "origin"], "properties": {
        "request_id": STRING, "nonce": STRING, "origin": STRING, "purpose": STRING,
        "expires_at": {"type": "string", "format": "date-time"}}},
    "CardToken": {"type": "object", "required": ["format", "certificate", "signature"], "properties": {
        "format": {"const": "madoguchi-jpki:1"}, "algorithm": {"const": "RS256"},
        "certificate": {"type": "string", "contentEncoding": "base64"},
        "signature": {"type": "string", "contentEncoding": "base64"}}},
    "SessionRequest": {"type": "object", "required": ["request_id", "nonce", "terminal_id", "token"],
                       "properties": {"request_id": {"type": "string", "maxLength": 64,
                                                     "pattern": "^[0-9]{6}\\.[A-Za-z0-9_-]+$"},
                                      "nonce": {"type": "string", "minLength": 1, "maxLength": 64},
                                      "terminal_id": {"type": "string", "pattern": "^[A-Za-z0-9_\\-.]{1,64}$"},
                                      "token": {"$ref": "#/components/schemas/CardToken"}}},
    "Offer": {"type": "object", "properties": {
        "certificate_type": {"enum": ["juminhyo", "juminhyo_kisai", "inkan", "shotoku_kazei"]},
        "label": STRING, "fee": {"type": "integer"}, "available": {"type": "boolean"},
        "options": {"type": "array", "items": STRING},
        "fiscal_years": {"type": "array", "items": {"type": "integer"}},
        "reason": {"$ref": "#/components/schemas/Problem"}}},
    "Session": {"type": "object", "required": ["access_token", "catalogue"], "properties": {
        "access_token": STRING, "token_type": {"const": "Bearer"},
        "expires_at": {"type": "string", "format": "date-time"},
        "holder": {"type": "object", "properties": {"masked_name": STRING}},
        "municipality": {"type": "object", "properties": {"code": STRING, "name": STRING}},
        "catalogue": {"type": "array", "items": {"$ref": "#/components/schemas/Offer"}}}},
    "QuoteRequest": {"type": "object", "required": ["certificate_type"], "properties": {
        "certificate_type": STRING,
        "options": {"type": "object", "properties": {
            "household": {"type": "boolean", "description": "世帯全員"},
            "relationship": {"type": "boolean", "description": "世帯主・続柄"},
            "honseki": {"type": "boolean", "description": "本籍・筆頭者"},
            "fiscal_year": {"type": "integer", "description": "年度 (所得・課税証明書)"}}}}},
    "PaymentRequest": {"type": "object", "required": ["idempotency_key", "amount"], "properties": {
        "idempotency_key": {"type": "string", "pattern": "^[A-Za-z0-9_\\-:.]{8,64}$"},
        "amount": {"type": "integer", "description": "Yen collected; must equal the fee"}}},
    "OutcomeRequest": {"type": "object", "required": ["result"], "properties": {
        "result": {"enum": ["printed", "failed"]}, "detail": STRING}},
    "Certificate": {"type": "object", "properties": {
        "issuance_number": STRING, "verification_code": STRING,
        "issued_at": {"type": "string", "format": "date-time"}, "pdf_url": STRING}},
    "IssuanceRequest": {"type": "object", "required": ["state"], "properties": {
        "state": {"enum": ["started", "quoted", "paid", "issued", "printed", "failed", "expired"]},
        "certificate_type": {"type": ["string", "null"]}, "label": STRING,
        "options": {"type": "object"}, "fee": {"type": ["integer", "null"]},
        "expires_at": {"type": "string", "format": "date-time"},
        "certificate": {"$ref": "#/components/schemas/Certificate"}}},
    "Issued": {"allOf": [{"$ref": "#/components/schemas/IssuanceRequest"}, {"type": "object", "properties": {
        "replayed": {"type": "boolean"}, "amount_charged": {"type": "integer"}}}]},
    "Outcome": {"allOf": [{"$ref": "#/components/schemas/IssuanceRequest"}, {"type": "object", "properties": {
        "amount_refunded": {"type": "integer", "description": "Yen to hand back (failed only)"}}}]},
}


def openapi_document(server_url: str) -> dict:
    """The document with this deployment's server URL."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Madoguchi コンビニ交付 terminal API", "version": "1.0.0",
                 "description": "The municipality's certificate issuance server as seen by a "
                                "store terminal. Japan time applies to hours (6:30–23:00 by default). "
                                "No string may hold NUL (U+0000): a body with one is refused (400)."},
        "servers": [{"url": server_url}],
        "paths": deepcopy(PATHS),
        "components": {"schemas": deepcopy(SCHEMAS), "securitySchemes": {
            "terminalRequest": {"type": "http", "scheme": "bearer",
                                "description": "Token returned by POST /api/v1/sessions"}}},
    }
