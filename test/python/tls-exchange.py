"""One exchange with a TLS server, as a client built on Python's ssl module makes it; driven by
test/e2e/client-tls.test.ts.

    python3 tls-exchange.py '<json>'

<json> is {"port": n, "ca": path, "cert": path?, "key": path?, "send": base64, "tls": true}.
With "tls": false the bytes go in the clear. The bytes are sent at once, then everything the
server sends is read until it closes the connection (the payload should end with quit) or 10 s
pass. Prints one JSON line: {"ok": true, "reply": base64, "closed": bool, "version": "TLSv1.3"} or
{"ok": false, "error": "..."} when the connection or handshake failed.
"""
import base64
import json
import socket
import ssl
import sys

request = json.loads(sys.argv[1])
result = {"ok": False}
try:
    raw = socket.create_connection(("127.0.0.1", request["port"]), timeout=10)
    conn = raw
    if request.get("tls", True):
        context = ssl.create_default_context(cafile=request["ca"])
        context.check_hostname = False
        if request.get("cert"):
            context.load_cert_chain(request["cert"], request["key"])
        conn = context.wrap_socket(raw, server_hostname="localhost")
        result["version"] = conn.version()
    conn.sendall(base64.b64decode(request["send"]))
    reply = b""
    closed = False
    while True:
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            closed = True
            break
        reply += chunk
    result.update(ok=True, reply=base64.b64encode(reply).decode(), closed=closed)
except (OSError, ssl.SSLError) as error:
    result["error"] = f"{type(error).__name__}: {error}"
print(json.dumps(result))
