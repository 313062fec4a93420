#!/bin/sh
# make demo: a local web server that says who connected, and curl run twice,
# bare and through dialshim, so the difference and the shim's log are visible.
set -eu
cd "$(dirname "$0")/.."
T=$(mktemp -d)
SRV= SOCKS=
trap 'kill $SRV $SOCKS 2>/dev/null || true; rm -rf "$T"' EXIT INT TERM

cat > "$T/server.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello {self.client_address[0]}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$T/server.py" > "$T/port" &
SRV=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")

echo "== a web server on 127.0.0.1:$PORT answers with the address it saw"
echo
echo "\$ curl -s http://127.0.0.1:$PORT/"
curl -s --max-time 5 "http://127.0.0.1:$PORT/"
echo
echo "\$ build/dialshim -c examples/demo.ini -- curl -s http://127.0.0.1:$PORT/"
build/dialshim -c examples/demo.ini -- curl -s --max-time 5 "http://127.0.0.1:$PORT/"
echo
echo "\$ build/dialshim -c examples/demo.ini -- curl -s http://127.0.0.1:9/    (a route blocks port 9)"
build/dialshim -c examples/demo.ini -- curl -s --max-time 5 "http://127.0.0.1:9/" ||
    echo "curl exit status $? (couldn't connect): the route blocked it, nothing left the host"
echo
echo "\$ build/dialshim explain -c examples/demo.ini -n curl 127.0.0.1 $PORT"
build/dialshim explain -c examples/demo.ini -n curl 127.0.0.1 "$PORT"
echo
if command -v microsocks >/dev/null; then
    microsocks -i 127.0.0.1 -p 11080 -b 127.0.0.4 >/dev/null 2>&1 &
    SOCKS=$!
    sleep 0.3
    echo "== a SOCKS5 proxy (microsocks) on 127.0.0.1:11080, leaving from 127.0.0.4"
    echo "\$ build/dialshim -c examples/demo.ini -p proxied -- curl -s http://127.0.0.1:$PORT/"
    build/dialshim -c examples/demo.ini -p proxied -- curl -s --max-time 5 "http://127.0.0.1:$PORT/"
    echo "(microsocks cannot take a pipelined handshake: the first connect found out and"
    echo " redid it in lockstep inside the same connect; later ones go lockstep at once)"
    echo
    kill $SOCKS 2>/dev/null || true
    wait $SOCKS 2>/dev/null || true
    echo "\$ build/dialshim -c examples/demo.ini -p proxied -- curl -s http://127.0.0.1:$PORT/   (proxy stopped)"
    build/dialshim -c examples/demo.ini -p proxied -- curl -s --max-time 5 "http://127.0.0.1:$PORT/" ||
        echo "curl exit status $?: the proxy is down, and dialshim never falls back to a direct connection"
    echo
fi
echo
echo "The 'dialshim:' lines above are the shim's decision log (log_level = info in"
echo "examples/demo.ini): program, pid, destination, app, rule, dialer, result, time."
