"""TLS on a free loopback port in front of a plain TCP service: AWS's HTTPS,
locally. `make bench` puts its engine behind it (the issuer's JWKS has an
HTTPS server of its own there); the arm64 artifact test puts the engine and
the issuer behind it, so the shipped binary speaks TLS, as it will to every
AWS endpoint."""
import socket
import ssl
import threading


def complete_responses(buf):
    """The whole HTTP/1.1 responses at the start of `buf`, and what follows
    them. The engine (waitress) writes a response's head and body in two
    sends; forwarded as read, they became two TLS records that reached the
    client apart now and then, a wake-up and a read more for it depending
    on timing. An AWS endpoint sends a small answer at once, so the proxy
    forwards whole responses. A response without a `Content-Length` goes on
    as it arrives."""
    ready = b""
    while (end := buf.find(b"\r\n\r\n")) >= 0:
        length = None
        for line in buf[:end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            return ready + buf, b""
        total = end + 4 + length
        if len(buf) < total:
            break
        ready, buf = ready + buf[:total], buf[total:]
    return ready, buf


def start_tls_proxy(cert, key, upstream_port, idle_close=None, stats=None, tickets=True):
    """TLS on a free port, forwarding bytes to `upstream_port` on 127.0.0.1.
    A thread per connection, so concurrent handshakes (the DynamoDB warm-up
    and the Secrets Manager reads at start-up) do not queue behind one
    another, as they would not at independent AWS endpoints. With
    `idle_close`, a connection idle that many seconds is closed, as AWS's
    endpoints and NATs close idle connections; `stats` counts connections,
    handshakes and how many resumed a TLS session. Without `tickets` no
    session can be resumed: every reconnect is a full handshake."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if not tickets:
        ctx.num_tickets = 0
        ctx.options |= ssl.OP_NO_TICKET
    listener = socket.create_server(("127.0.0.1", 0))

    def pipe(src, dst, whole_responses=False):
        try:
            if idle_close:
                src.settimeout(idle_close)
            pending = b""
            while data := src.recv(65536):
                if not whole_responses:
                    dst.sendall(data)
                    continue
                pending += data
                ready, pending = complete_responses(pending)
                if ready:
                    dst.sendall(ready)
            if pending:
                dst.sendall(pending)
        except OSError:
            pass
        finally:
            for s_ in (src, dst):
                try:
                    s_.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve(conn):
        try:
            tls = ctx.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        tls.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if stats is not None:
            stats["handshakes"] = stats.get("handshakes", 0) + 1
            stats["resumed"] = stats.get("resumed", 0) + int(tls.session_reused)
        up = socket.create_connection(("127.0.0.1", upstream_port))
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pipe, args=(up, tls, True), daemon=True).start()
        pipe(tls, up)

    def accept():
        while True:
            conn, _ = listener.accept()
            if stats is not None:
                stats["connections"] = stats.get("connections", 0) + 1
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]
