"""schemathesis hooks for scripts/schemathesis.sh.

Long polls: `wait_seconds` (GET /v1/events, POST /v1/teams/{team}/claim) may be up to 30,
and a claim on an empty queue or a feed at its end really waits that long. A valid wait of
2 to 30 seconds becomes 1, so the run spends its time on requests rather than on sleeping;
out-of-range values (negative testing) are left as generated. Waking and timing out are
covered by QueueEndpointTests and MembersAndStreamTests.
"""

import schemathesis


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
