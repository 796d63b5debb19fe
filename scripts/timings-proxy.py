# A logging proxy for llama-server: forwards every request, streams the answer back, and
# appends one JSON line per chat request (wall time, timings.cache_n/prompt_n, usage) to a log.
import http.server, http.client, json, sys, time
UP_PORT = int(sys.argv[2]); LOG = sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def _fwd(self, method):
        n = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(n) if n else None
        t0 = time.time()
        c = http.client.HTTPConnection("127.0.0.1", UP_PORT, timeout=600)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        c.request(method, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ("content-length", "transfer-encoding", "connection"): continue
            self.send_header(k, v)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        buf = b""; first = None
        while True:
            chunk = r.read1(65536) if hasattr(r, "read1") else r.read(65536)
            if not chunk: break
            if first is None: first = time.time()
            buf += chunk
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk)); self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
        if self.path.endswith("/chat/completions"):
            timings = usage = None
            for line in buf.decode("utf-8", "replace").splitlines():
                if line.startswith("data: {"):
                    try: d = json.loads(line[6:])
                    except Exception: continue
                    timings = d.get("timings") or timings
                    usage = d.get("usage") or usage
            req = json.loads(body or b"{}")
            with open(LOG, "a") as f:
                f.write(json.dumps({"wall_s": round(time.time() - t0, 2),
                    "first_byte_s": round((first or t0) - t0, 2), "timings": timings, "usage": usage,
                    "n_messages": len(req.get("messages", []))}) + "\n")
    def do_GET(self): self._fwd("GET")
    def do_POST(self): self._fwd("POST")
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
