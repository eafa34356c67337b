"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

POST /api/v1/chains/{id}/components takes the component as an `application/wasm` body, a media
type schemathesis has no serializer for; without this one that operation reports
"Serialization not possible" and is never sent. Generated values go out as raw bytes, so the
upload checks (size, magic, validation) see arbitrary input.
"""

import schemathesis


@schemathesis.serializer("application/wasm")
def wasm_serializer(ctx, value):
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8")
