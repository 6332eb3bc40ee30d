"""Minimal raw RESP2/RESP3 client used by the compatibility tools.

Nothing here interprets replies for the caller unless asked: `Conn.read_reply()` returns the
exact bytes of one complete reply (including nested aggregates, RESP3 types, attributes and
nulls), so two servers can be compared byte for byte.  `parse()` turns such bytes into a small
tree for the structural comparisons the differential runner needs.
"""

import socket

CRLF = b"\r\n"

# Types whose payload is one line.
_LINE_TYPES = frozenset(b"+-:_,#(")
# Types carrying a length-prefixed blob.
_BLOB_TYPES = frozenset(b"$=!")
# Aggregates of N elements.
_ARRAY_TYPES = frozenset(b"*~>")
# Aggregates of N key/value pairs.
_MAP_TYPES = frozenset(b"%|")


class ProtocolError(Exception):
    pass


class ConnectionClosed(Exception):
    pass


def encode_command(args):
    """RESP multibulk encoding of a list of bytes arguments."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n" % len(a))
        out.append(a)
        out.append(CRLF)
    return b"".join(out)


def reply_end(buf, pos=0):
    """Return the index just past the complete reply starting at `pos`, or -1 if `buf`
    does not hold a complete reply yet.  Iterative (an explicit stack of pending element
    counts), so deep nesting cannot blow the Python stack.  An attribute (`|`) is followed
    by the reply it annotates, which is counted as part of the same reply."""
    n = len(buf)
    pending = []  # remaining element counts of open aggregates
    while True:
        if pos >= n:
            return -1
        t = buf[pos]
        eol = buf.find(CRLF, pos)
        if eol < 0:
            return -1
        if t in _LINE_TYPES:
            pos = eol + 2
        elif t in _BLOB_TYPES:
            try:
                length = int(buf[pos + 1:eol])
            except ValueError:
                raise ProtocolError("bad blob length %r" % bytes(buf[pos:eol]))
            if length < 0:
                pos = eol + 2
            else:
                end = eol + 2 + length + 2
                if end > n:
                    return -1
                if buf[end - 2:end] != CRLF:
                    raise ProtocolError("blob not terminated by CRLF")
                pos = end
        elif t in _ARRAY_TYPES or t in _MAP_TYPES:
            try:
                count = int(buf[pos + 1:eol])
            except ValueError:
                raise ProtocolError("bad aggregate length %r" % bytes(buf[pos:eol]))
            pos = eol + 2
            if t in _MAP_TYPES and count > 0:
                count *= 2
            if t == ord("|"):
                count += 1  # the annotated reply follows the attribute pairs
            if count > 0:
                pending.append(count)
                continue
        else:
            raise ProtocolError("unknown reply type byte %r at %d" % (chr(t), pos))
        # One element finished: pop completed aggregates.
        while pending:
            pending[-1] -= 1
            if pending[-1] > 0:
                break
            pending.pop()
        if not pending:
            return pos


class Node:
    """Parsed reply: `t` is the type byte as a one-char str, `v` the value, `raw` the exact
    bytes of this element.  Values: '+','-' bytes; ':','(' int; '$','=','!' bytes or None;
    ',' bytes (the printed double); '#' bool; '_' None; '*','~','>' list of Node or None;
    '%','|' list of (Node, Node); attributes are parsed into `attrs` of the next node."""

    __slots__ = ("t", "v", "raw", "attrs")

    def __init__(self, t, v, raw, attrs=None):
        self.t, self.v, self.raw, self.attrs = t, v, raw, attrs

    def __repr__(self):
        return "Node(%s,%r)" % (self.t, self.v)

    @property
    def is_null(self):
        return self.t == "_" or (self.t in "$*" and self.v is None)

    def items(self):
        """Elements of an array-like node, or the flattened pairs of a map (so RESP2
        flat arrays and RESP3 maps can be treated alike)."""
        if self.t in "*~>":
            return list(self.v or [])
        if self.t in "%|":
            out = []
            for k, v in self.v:
                out.append(k)
                out.append(v)
            return out
        raise TypeError("not an aggregate: %r" % self)

    def pairs(self):
        items = self.items()
        return [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]

    def scalar(self):
        """bytes for string-like nodes, int for integers."""
        return self.v


def parse(data, pos=0):
    """Parse one reply from `data` starting at `pos`; returns (Node, end)."""
    t = chr(data[pos])
    eol = data.find(CRLF, pos)
    line = bytes(data[pos + 1:eol])
    if t in "+-":
        return Node(t, line, bytes(data[pos:eol + 2])), eol + 2
    if t in ":(":
        return Node(t, int(line), bytes(data[pos:eol + 2])), eol + 2
    if t == ",":
        return Node(t, line, bytes(data[pos:eol + 2])), eol + 2
    if t == "#":
        return Node(t, line == b"t", bytes(data[pos:eol + 2])), eol + 2
    if t == "_":
        return Node(t, None, bytes(data[pos:eol + 2])), eol + 2
    if t in "$=!":
        length = int(line)
        if length < 0:
            return Node(t, None, bytes(data[pos:eol + 2])), eol + 2
        end = eol + 2 + length
        return Node(t, bytes(data[eol + 2:end]), bytes(data[pos:end + 2])), end + 2
    if t in "*~>":
        count = int(line)
        if count < 0:
            return Node(t, None, bytes(data[pos:eol + 2])), eol + 2
        p = eol + 2
        elems = []
        for _ in range(count):
            e, p = parse(data, p)
            elems.append(e)
        return Node(t, elems, bytes(data[pos:p])), p
    if t in "%|":
        count = int(line)
        p = eol + 2
        pairs = []
        for _ in range(count):
            k, p = parse(data, p)
            v, p = parse(data, p)
            pairs.append((k, v))
        if t == "|":
            inner, p2 = parse(data, p)
            inner.attrs = pairs
            inner.raw = bytes(data[pos:p2])
            return inner, p2
        return Node(t, pairs, bytes(data[pos:p])), p
    raise ProtocolError("unknown type %r" % t)


def parse_reply(data):
    node, end = parse(data, 0)
    if end != len(data):
        raise ProtocolError("trailing bytes after reply")
    return node


class Conn:
    """One TCP connection speaking raw RESP."""

    def __init__(self, host, port, timeout=10.0, name=""):
        self.host, self.port, self.timeout, self.name = host, port, timeout, name
        self.sock = None
        self.buf = bytearray()
        self.pushes = []
        self.connect()

    def connect(self):
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def send(self, data):
        self.sock.sendall(data)

    def send_command(self, args):
        self.send(encode_command(args))

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionClosed("%s closed the connection" % (self.name or "server"))
        self.buf += chunk

    def read_reply(self, skip_push=True):
        """Exact bytes of the next reply.  Out-of-band RESP3 push messages (`>`) are set
        aside in `self.pushes` when skip_push is true."""
        while True:
            end = reply_end(self.buf, 0)
            if end >= 0:
                out = bytes(self.buf[:end])
                del self.buf[:end]
                if skip_push and out[:1] == b">":
                    self.pushes.append(out)
                    continue
                return out
            self._fill()

    def call(self, *args):
        self.send_command([a if isinstance(a, bytes) else str(a).encode() for a in args])
        return self.read_reply()

    def wait_closed(self, timeout=2.0):
        """True if the peer closes the connection (after any buffered replies) within
        `timeout` seconds; the bytes still received are left in self.buf."""
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    return (host or "127.0.0.1"), int(port)
