"""schemathesis hooks for scripts/schemathesis.sh.

cargo lambda watch cannot turn a request body that is not UTF-8 into an
event: it answers 500 itself, without calling the function. API Gateway
delivers such bytes to the function as text, and the function's handling of
arbitrary body bytes (400, never 5xx) is covered by tests/api/fuzz.rs, so
those bodies are left out here rather than testing the emulator.
"""
import schemathesis


@schemathesis.hook
def filter_body(ctx, body):
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
