"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Two things: an `application/wasm` serializer, and NULs and control characters in query and path
parameters (below).

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


# Text PostgreSQL cannot store (issue 13): schemathesis may draw a NUL in any string
# (`--generation-allow-x00 true`, its default), but rarely in the one query or path parameter
# a handler hands to the database. These hooks put a NUL, or another control character, into
# one string parameter of about one case in eight, so every operation with text parameters is
# tried with them; the contract is a 400 `bad_request` problem, never a 5xx.
from hypothesis import strategies as st

_NASTY = ["\x00", "\x00\x00", "a\x00", "\x01", "\x1f", "\x7f"]


def _poisoned(values):
    if not isinstance(values, dict):
        return st.just(values)
    names = sorted(k for k, v in values.items() if isinstance(v, str))
    if not names:
        return st.just(values)

    def poison(choice):
        name, nasty, at = choice
        out = dict(values)
        text = out[name]
        at = min(at, len(text))
        out[name] = text[:at] + nasty + text[at:]
        return out

    poisoned = st.tuples(st.sampled_from(names), st.sampled_from(_NASTY), st.integers(0, 16)).map(poison)
    return st.integers(0, 7).flatmap(lambda n: poisoned if n == 0 else st.just(values))


@schemathesis.hook
def flatmap_query(ctx, query):
    return _poisoned(query)


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    return _poisoned(path_parameters)
