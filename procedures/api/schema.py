"""OpenAPI post-processing: the error answers every operation can give, documented.

DRF answers 404 for an unknown object, page or `?format=`, 400 for an invalid query
or body, and 401/403 on operations that need a staff account; views rarely list
these one by one, so the schema contradicted the API (issue 11 item 11: "undocumented
404 for a bad page"). Each operation keeps what its view declares; what it lacks is
added here with the body DRF really sends.
"""

from __future__ import annotations

ERROR = "ApiError"
VALIDATION_ERROR = "ApiValidationError"
_METHODS = {"get", "post", "put", "patch", "delete"}


def _response(description: str, schema: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        ERROR,
        {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
            "description": "An error: what went wrong, in the user's language.",
        },
    )
    schemas.setdefault(
        VALIDATION_ERROR,
        {
            "type": "object",
            "additionalProperties": True,
            "description": "Invalid input: each field at fault with its messages (lists of "
            "strings), or `detail` for the whole request.",
        },
    )
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            wanted = {"404": _response("Not found: no such object, page or format.", ERROR)}
            if operation.get("parameters") or operation.get("requestBody"):
                wanted["400"] = _response("Invalid input.", VALIDATION_ERROR)
            security = operation.get("security") or [{}]
            if {} not in security:
                wanted["401"] = _response("Not logged in, or the token is invalid.", ERROR)
                wanted["403"] = _response("The account may not do this.", ERROR)
            for code, response in wanted.items():
                responses.setdefault(code, response)
    return result
