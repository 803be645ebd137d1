"""schemathesis hooks for scripts/schemathesis.sh.

Long polls: `wait_seconds` (GET /v1/events, POST /v1/teams/{team}/claim) may be up to 30,
and a claim on an empty queue or a feed at its end really waits that long. A valid wait of
2 to 30 seconds becomes 1, so the run spends its time on requests rather than on sleeping;
out-of-range values (negative testing) are left as generated. Waking and timing out are
covered by QueueEndpointTests and MembersAndStreamTests.

Idempotency keys: the server replays the first response for a key it has seen with the same
body (24 hours), which is the point of the header. The fuzzer, though, sends the same small
keys over and over ("0", "A"), and the stateful phase repeats whole scenarios against a
database that keeps its state: "POST /v1/regions/a0/holidays with key 0 -> 201, DELETE it ->
204" run twice makes the second POST a replay (201, nothing inserted) and the DELETE after it
a correct 404, which schemathesis reports as "created resource not found" (ST302). So in the
stateful phase every valid key gets a unique suffix before it is sent; invalid keys (negative
testing) go out as generated. Only there: an edit in `before_call` makes schemathesis
revalidate the case, and in the coverage phase that drops the "leave out Authorization"
scenario (ST203 then reports the token it sent anyway as accepted). The phase is read from the
case's private `_meta` (schemathesis is pinned; without it the hook does nothing). Replays
themselves are covered by QueueEndpointTests and SLAEndpointTests.
"""

import re
import uuid

import schemathesis

_VALID_KEY = re.compile(r"[!-~]{1,255}")


def _shorten(container):
    if isinstance(container, dict):
        value = container.get("wait_seconds")
        if isinstance(value, int) and not isinstance(value, bool) and 2 <= value <= 30:
            container["wait_seconds"] = 1
        elif isinstance(value, str) and value.isdigit() and 2 <= int(value) <= 30:
            container["wait_seconds"] = "1"


@schemathesis.hook
def map_query(context, query):
    _shorten(query)
    return query


@schemathesis.hook
def map_body(context, body):
    _shorten(body)
    return body


@schemathesis.hook
def map_case(context, case):
    # The stateful phase builds cases without the query and body hooks above.
    _shorten(case.query)
    _shorten(case.body)
    return case


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = getattr(case, "_meta", None)
    phase = getattr(getattr(meta, "phase", None), "name", None)
    headers = case.headers
    if phase != "stateful" or not headers:
        return
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        value = headers[name]
        if isinstance(value, str) and _VALID_KEY.fullmatch(value):
            headers[name] = f"{value[:200]}~{uuid.uuid4().hex}"
