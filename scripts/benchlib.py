"""Helpers shared by the side-by-side benchmark scripts (scripts/bench, scripts/bench-collections,
scripts/metrics-demo): starting servers on free ports, reading a server's CPU time and RSS from
/proc, and a minimal pipelining RESP2 client so the scripts need nothing beyond the standard
library (redis-py may or may not be installed).
"""
import atexit, os, shutil, socket, subprocess, sys, tempfile, time

CLK = os.sysconf("SC_CLK_TCK")
# Servers run in empty directories of their own: redis-server loads a dump.rdb it finds in its
# working directory even with --save "" (and exits on a format it cannot read).
SERVER_DIRS = tempfile.mkdtemp(prefix="apus-bench-")
atexit.register(shutil.rmtree, SERVER_DIRS, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_command_line(port):
    return ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]


def apus_command_line(apus_bin, port, threads=0):
    cmd = [apus_bin, "--port", str(port), "--save", ""]
    if threads:
        cmd += ["--io-threads", str(threads)]
    return cmd


def start(cmd, port):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=tempfile.mkdtemp(dir=SERVER_DIRS))
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"server did not start: {' '.join(cmd)}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def command(port, *args):
    payload = f"*{len(args)}\r\n" + "".join(f"${len(str(a))}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(payload.encode())
        return s.recv(65536)


def encode(*args):
    """One command as a RESP array of bulk strings."""
    parts = [f"*{len(args)}\r\n"]
    for a in args:
        a = a.decode() if isinstance(a, bytes) else str(a)
        parts.append(f"${len(a.encode())}\r\n{a}\r\n")
    return "".join(parts)


def encode_reply(reply):
    """A parsed reply back to RESP2 bytes (the inverse of Client's parser)."""
    if isinstance(reply, ReplyError):
        return b"-" + reply.encode() + b"\r\n"
    if isinstance(reply, bytes):
        return b"$%d\r\n%s\r\n" % (len(reply), reply)
    if isinstance(reply, int):
        return b":%d\r\n" % reply
    if reply is None:
        return b"$-1\r\n"
    return b"*%d\r\n" % len(reply) + b"".join(encode_reply(r) for r in reply)


class ReplyError(str):
    """An error reply (-ERR ...): kept as a value so replies of two servers can be compared."""

    def __repr__(self):
        return f"ReplyError({str.__repr__(self)})"


class Client:
    """A blocking RESP2 connection that sends commands in pipelined batches.

    Replies are parsed into bytes (simple and bulk strings), int, None (null), list, or
    ReplyError."""

    def __init__(self, port):
        # A timeout so a server that sends fewer reply bytes than expected fails the run.
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = b""
        self.pos = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, *args):
        return self.pipeline([args])[0]

    def pipeline(self, commands, batch=1000):
        """Send `commands` (sequences of arguments) `batch` at a time; return all replies."""
        replies = []
        commands = list(commands)
        for i in range(0, len(commands), batch):
            chunk = commands[i:i + batch]
            self.sock.sendall("".join(encode(*c) for c in chunk).encode())
            replies.extend(self._read_reply() for _ in chunk)
        return replies

    def exchange_raw(self, payload, reply_len):
        """Send pre-encoded commands and return exactly `reply_len` bytes of replies, unparsed:
        for timed loops whose replies are known in advance, so the client does no parsing."""
        self.sock.sendall(payload)
        chunks, got = [], 0
        while got < reply_len:
            data = self.sock.recv(min(1 << 20, reply_len - got))
            if not data:
                raise ConnectionError("connection closed by server")
            chunks.append(data)
            got += len(data)
        return b"".join(chunks)

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("connection closed by server")
        self.buf = self.buf[self.pos:] + data
        self.pos = 0

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = self.buf[self.pos:end]
                self.pos = end + 2
                return line
            self._fill()

    def _read_reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            return ReplyError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            value = self.buf[self.pos:self.pos + n]
            self.pos += n + 2
            return value
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._read_reply() for _ in range(n)]
        raise ValueError(f"unexpected reply line {line!r}")


def info_section(port, section):
    """INFO <section> as a dict of field -> value string."""
    with Client(port) as c:
        text = c.call("INFO", section).decode()
    fields = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


def bench_once(port, pid, test_args, pipeline, requests, keyspace=100000):
    """One redis-benchmark run (50 clients); returns (requests per second, server CPU
    microseconds per request)."""
    args = ["redis-benchmark", "-p", str(port), "-n", str(requests), "-P", str(pipeline),
            "-c", "50", "-r", str(keyspace), "-q", "--csv"] + test_args
    before = cpu_seconds(pid)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    rps = None
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if len(parts) >= 2:
            try:
                rps = float(parts[1])
            except ValueError:
                continue
    return rps, used / requests * 1e6  # CPU microseconds per request
