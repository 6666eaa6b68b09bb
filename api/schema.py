"""OpenAPI: every operation declares the error answers it can give, in the one envelope.

Clients (and the CI fuzzer) can then tell a documented refusal from a contract break: any status not
listed here, or an error body of another shape, is a bug.
"""

ERROR_SCHEMA_NAME = "ErrorEnvelope"
ERROR_STATUSES = {
    "400": "The input is not valid or the request is malformed.",
    "401": "Not authenticated: missing, expired or forged credentials.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "No such object, or not one the caller may see.",
    "405": "The method is not allowed here.",
    "406": "No acceptable representation.",
    "409": "Conflicts with the current state (already done, taken, used up).",
    "410": "The code has expired.",
    "413": "The request body is too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests or a rule's rate limit; see Retry-After.",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
            # Some errors carry more: server_time for kiosk clocks, retry_after for lockouts.
            "additionalProperties": True,
        }
    },
}


def declare_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error envelope and every error status to each operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "put", "patch", "post", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {"description": str(description), "content": {"application/json": {"schema": reference}}},
                )
    return result
