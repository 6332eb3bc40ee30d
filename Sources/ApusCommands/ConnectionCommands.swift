import ApusRESP
import ApusStore
import NIOCore

/// Connection commands: PING ECHO SELECT QUIT RESET HELLO AUTH CLIENT.
public enum ConnectionCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("ping", ping)
        registry.register("echo", echo)
        registry.register("select", select)
        registry.register("quit", quit)
        registry.register("reset", reset)
        registry.register("hello", hello)
        registry.register("auth", auth)
        registry.register("client|help", clientHelp)
        registry.register("client|id", clientID)
        registry.register("client|getname", clientGetName)
        registry.register("client|setname", clientSetName)
        registry.register("client|setinfo", clientSetInfo)
        registry.register("client|info", clientInfo)
        registry.register("client|list", clientList)
        registry.register("client|kill", clientKill)
        registry.register("client|no-evict", clientNoEvict)
        registry.register("client|no-touch", clientNoTouch)
        registry.register("client|unblock", clientUnblock)
        registry.register("client|reply", clientReply)
    }

    static func ping(_ c: inout CommandContext) {
        if c.args.count > 2 { return c.wrongArity("ping") }
        // Redis answers a RESP2 subscriber with a pushed-message shaped array.
        if c.client.inRESP2SubscribedMode {
            c.reply.arrayHeader(2)
            c.reply.bulk("pong")
            return c.args.count == 2 ? c.reply.bulk(c.args[1]) : c.reply.bulk("")
        }
        if c.args.count == 2 { c.reply.bulk(c.args[1]) } else { c.reply.simpleString("PONG") }
    }

    static func echo(_ c: inout CommandContext) { c.reply.bulk(c.args[1]) }

    static func select(_ c: inout CommandContext) {
        guard let index = c.int32Argument(1) else { return }
        guard index >= 0 && index < c.server.keyspace.databases.count else {
            return c.reply.error("ERR DB index is out of range")
        }
        c.client.select(index, in: c.server.keyspace)
        c.reply.ok()
    }

    static func quit(_ c: inout CommandContext) {
        c.reply.ok()
        c.client.closeAfterReply = true
    }

    static func reset(_ c: inout CommandContext) {
        let client = c.client
        TransactionCommands.discardTransaction(client, server: c.server)
        c.server.tracking.disable(client)
        PubSubCommands.reset(client, server: c.server)
        client.select(0, in: c.server.keyspace)
        client.resp = .resp2
        client.user = "default"
        client.authenticated = c.server.settings.requirePass == nil
        client.name = nil
        client.replyMode = .on
        client.noEvict = false
        client.noTouch = false
        c.reply.version = .resp2
        c.reply.simpleString("RESET")
    }

    /// Checks a user/password pair against the default user (ACLs come later): with no
    /// `requirepass` the default user is `nopass` and any password works.
    static func authenticate(_ c: inout CommandContext, user: UnsafeRawBufferPointer, password: UnsafeRawBufferPointer) -> Bool {
        let valid: Bool
        // ACL user names are case-sensitive.
        let defaultUser: StaticString = "default"
        if user.bytesEqual(UnsafeRawBufferPointer(start: defaultUser.utf8Start, count: defaultUser.utf8CodeUnitCount)) {
            if let required = c.server.settings.requirePass {
                valid = required.withUnsafeBytes { $0.bytesEqual(password) }
            } else {
                valid = true
            }
        } else {
            valid = false
        }
        if valid {
            c.client.authenticated = true
            c.client.user = "default"
        } else {
            c.reply.error("WRONGPASS invalid username-password pair or user is disabled.")
        }
        return valid
    }

    static func auth(_ c: inout CommandContext) {
        if c.args.count > 3 { return c.syntaxError() }
        if c.args.count == 2 {
            guard c.server.settings.requirePass != nil else {
                return c.reply.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
            }
            let defaultUser: StaticString = "default"
            if authenticate(&c, user: UnsafeRawBufferPointer(start: defaultUser.utf8Start, count: 7), password: c.args[1]) {
                c.reply.ok()
            }
        } else if authenticate(&c, user: c.args[1], password: c.args[2]) {
            c.reply.ok()
        }
    }

    static func hello(_ c: inout CommandContext) {
        var version: RESPVersion?
        var next = 1
        if c.args.count >= 2 {
            guard let v = parseInteger(c.args[1]) else {
                return c.reply.error("ERR Protocol version is not an integer or out of range")
            }
            next = 2
            guard v == 2 || v == 3 else { return c.reply.error("NOPROTO unsupported protocol version") }
            version = v == 3 ? .resp3 : .resp2
        }
        var credentials: (Int, Int)?
        var nameIndex: Int?
        var j = next
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.args.isToken(j, "auth") && more >= 2 {
                credentials = (j + 1, j + 2)
                j += 3
            } else if c.args.isToken(j, "setname") && more >= 1 {
                guard validClientAttribute(c.args[j + 1]) else {
                    return c.reply.error("ERR Client names cannot contain spaces, newlines or special characters.")
                }
                nameIndex = j + 1
                j += 2
            } else {
                return c.reply.error("ERR Syntax error in HELLO option '\(c.string(j))'")
            }
        }
        if let (user, password) = credentials {
            guard authenticate(&c, user: c.args[user], password: c.args[password]) else { return }
        }
        guard c.client.authenticated else {
            return c.reply.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        }
        if let nameIndex { c.client.name = c.args[nameIndex].isEmpty ? nil : Bytes(c.args[nameIndex]) }
        if let version {
            c.client.resp = version
            c.server.pubsub.protocolChanged(c.client.subscriber, to: version)
            c.reply.version = version
        }
        c.reply.mapHeader(7)
        c.reply.bulk("server"); c.reply.bulk("redis")
        c.reply.bulk("version"); c.reply.bulk(ServerInfo.redisVersion)
        c.reply.bulk("proto"); c.reply.integer(c.client.resp.rawValue)
        c.reply.bulk("id"); c.reply.integer(c.client.id)
        c.reply.bulk("mode"); c.reply.bulk("standalone")
        c.reply.bulk("role"); c.reply.bulk("master")
        c.reply.bulk("modules"); c.reply.arrayHeader(0)
    }

    // MARK: CLIENT

    static func clientHelp(_ c: inout CommandContext) {
        c.replyHelp("CLIENT", [
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ])
    }

    static func clientID(_ c: inout CommandContext) { c.reply.integer(c.client.id) }

    static func clientGetName(_ c: inout CommandContext) {
        if let name = c.client.name { c.reply.bulk(name) } else { c.reply.null() }
    }

    /// CLIENT LIST must stay splittable by spaces: printable ASCII only.
    static func validClientAttribute(_ raw: UnsafeRawBufferPointer) -> Bool {
        raw.allSatisfy { $0 >= UInt8(ascii: "!") && $0 <= UInt8(ascii: "~") }
    }

    static func clientSetName(_ c: inout CommandContext) {
        guard validClientAttribute(c.args[2]) else {
            return c.reply.error("ERR Client names cannot contain spaces, newlines or special characters.")
        }
        c.client.name = c.args[2].isEmpty ? nil : Bytes(c.args[2])
        c.reply.ok()
    }

    static func clientSetInfo(_ c: inout CommandContext) {
        let isName = c.args.isToken(2, "lib-name")
        guard isName || c.args.isToken(2, "lib-ver") else {
            return c.reply.error("ERR Unrecognized option '\(c.string(2))'")
        }
        guard validClientAttribute(c.args[3]) else {
            return c.reply.error("ERR \(c.string(2)) cannot contain spaces, newlines or special characters.")
        }
        if isName { c.client.libName = c.string(3) } else { c.client.libVersion = c.string(3) }
        c.reply.ok()
    }

    static func clientInfo(_ c: inout CommandContext) {
        c.reply.verbatim(describe(c.client, now: c.now, running: runningState(c)) + "\n")
    }

    enum ClientType { case normal, master, replica, pubsub }

    static func clientType(_ raw: UnsafeRawBufferPointer) -> ClientType? {
        if raw.equalsIgnoringCase("normal") { return .normal }
        if raw.equalsIgnoringCase("slave") || raw.equalsIgnoringCase("replica") { return .replica }
        if raw.equalsIgnoringCase("pubsub") { return .pubsub }
        if raw.equalsIgnoringCase("master") { return .master }
        return nil
    }

    static func clientList(_ c: inout CommandContext) {
        var clients = c.server.clients.all
        if c.args.count == 4 && c.args.isToken(2, "type") {
            guard let type = clientType(c.args[3]) else {
                return c.reply.error("ERR Unknown client type '\(c.string(3))'")
            }
            // Until replication and pub/sub exist every client is a normal one.
            if type != .normal { clients = [] }
        } else if c.args.count > 3 && c.args.isToken(2, "id") {
            var selected: [ClientSession] = []
            for j in 3..<c.args.count {
                guard let id = parseInteger(c.args[j]) else { return c.reply.error("ERR Invalid client ID") }
                if let found = c.server.clients.client(id: id) { selected.append(found) }
            }
            clients = selected
        } else if c.args.count != 2 {
            return c.syntaxError()
        }
        var text = ""
        for client in clients { text += describe(client, now: c.now, running: client === c.client ? runningState(c) : nil) + "\n" }
        c.reply.verbatim(text)
    }

    static func clientKill(_ c: inout CommandContext) {
        var addr: String?
        var laddr: String?
        var user: String?
        var type: ClientType?
        var id = 0
        var skipMe = true
        if c.args.count == 3 {
            addr = c.string(2)
            skipMe = false
        } else if c.args.count > 3 {
            var i = 2
            while i < c.args.count {
                let more = c.args.count > i + 1
                if c.args.isToken(i, "id") && more {
                    guard let value = parseInteger(c.args[i + 1]), value >= 1 else {
                        return c.reply.error("ERR client-id should be greater than 0")
                    }
                    id = value
                } else if c.args.isToken(i, "type") && more {
                    guard let t = clientType(c.args[i + 1]) else {
                        return c.reply.error("ERR Unknown client type '\(c.string(i + 1))'")
                    }
                    type = t
                } else if c.args.isToken(i, "addr") && more {
                    addr = c.string(i + 1)
                } else if c.args.isToken(i, "laddr") && more {
                    laddr = c.string(i + 1)
                } else if c.args.isToken(i, "user") && more {
                    guard c.string(i + 1) == "default" else {
                        return c.reply.error("ERR No such user '\(c.string(i + 1))'")
                    }
                    user = "default"
                } else if c.args.isToken(i, "skipme") && more {
                    if c.args.isToken(i + 1, "yes") { skipMe = true } else if c.args.isToken(i + 1, "no") { skipMe = false } else { return c.syntaxError() }
                } else {
                    return c.syntaxError()
                }
                i += 2
            }
        } else {
            return c.syntaxError()
        }
        var killed = 0
        for client in c.server.clients.all {
            if let addr, client.remoteAddress != addr { continue }
            if let laddr, client.localAddress != laddr { continue }
            if let type, type != .normal { continue }
            if id != 0 && client.id != id { continue }
            if let user, client.user != user { continue }
            if client === c.client {
                if skipMe { continue }
                c.client.closeAfterReply = true
            } else {
                // Redis frees the client at once: it must vanish from CLIENT LIST and a second
                // KILL now, not when its event loop gets to the close.
                c.server.clients.remove(client)
                client.requestClose()
            }
            killed += 1
        }
        if c.args.count == 3 {
            if killed == 0 { c.reply.error("ERR No such client") } else { c.reply.ok() }
        } else {
            c.reply.integer(killed)
        }
    }

    static func clientNoEvict(_ c: inout CommandContext) {
        if c.args.isToken(2, "on") { c.client.noEvict = true } else if c.args.isToken(2, "off") { c.client.noEvict = false } else { return c.syntaxError() }
        c.reply.ok()
    }

    static func clientNoTouch(_ c: inout CommandContext) {
        if c.args.isToken(2, "on") { c.client.noTouch = true } else if c.args.isToken(2, "off") { c.client.noTouch = false } else { return c.syntaxError() }
        c.reply.ok()
    }

    /// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's blocking command as if it
    /// timed out, or with an UNBLOCKED error. Replies 1 if that client was blocked, else 0.
    static func clientUnblock(_ c: inout CommandContext) {
        var asError = false
        if c.args.count == 4 {
            if c.args.isToken(3, "error") {
                asError = true
            } else if !c.args.isToken(3, "timeout") {
                return c.reply.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
            }
        }
        guard let id = c.integerArgument(2) else { return }
        let server = c.server
        let worker = c.worker
        // Inside EXEC the wait is ended once the transaction's locks are released (ending it
        // takes the serve lock, whose holder may be waiting for one of those shards).
        if ExclusiveSection.isActive {
            guard server.blocking.waiter(clientID: id) != nil else { return c.reply.integer(0) }
            ExclusiveSection.afterSection { _ = unblock(id, asError: asError, server: server, worker: worker) }
            return c.reply.integer(1)
        }
        c.reply.integer(unblock(id, asError: asError, server: server, worker: worker) ? 1 : 0)
    }

    private static func unblock(_ id: Int, asError: Bool, server: ServerContext, worker: Worker) -> Bool {
        guard let waiter = server.blocking.waiter(clientID: id), server.blocking.finish(waiter) else { return false }
        server.blocking.countUnserved(waiter, worker: worker, server: server, failed: asError)
        var reply = ReplyWriter(buffer: ByteBuffer(), version: waiter.client.resp)
        if asError {
            reply.error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        } else {
            reply = ReplyWriter(buffer: waiter.timedOutReply(), version: waiter.client.resp)
        }
        waiter.client.unblockDelivery(reply.buffer)
        return true
    }

    static func clientReply(_ c: inout CommandContext) {
        if c.args.isToken(2, "on") {
            c.client.replyMode = .on
            c.reply.ok()
        } else if c.args.isToken(2, "off") {
            c.client.replyMode = .off
        } else if c.args.isToken(2, "skip") {
            if c.client.replyMode != .off { c.client.replyMode = .skipNext }
        } else {
            c.syntaxError()
        }
    }

    /// One CLIENT LIST line, with Redis's fields in Redis's order (catClientInfoString), for
    /// log lines about a client (output buffer limits, client eviction).
    public static func clientInfoString(_ client: ClientSession, now: Int64) -> String {
        describe(client, now: now, running: nil)
    }

    /// What is live only in the asking client's own command: its arguments (argv-mem) and
    /// the replies built so far in this read burst (obl).
    static func runningState(_ c: CommandContext) -> (argumentBytes: Int, replyBytes: Int) {
        var argv = 0
        for i in 0..<c.args.count { argv &+= c.args[i].count }
        // obl: the part of the replies Redis would hold in its 16 KiB static buffer.
        return (argv, min(c.reply.buffer.readableBytes, 16 * 1024))
    }

    /// One CLIENT LIST line, with Redis's fields in Redis's order; `running` is set when
    /// `client` is the one asking.
    static func describe(_ client: ClientSession, now: Int64, running: (argumentBytes: Int, replyBytes: Int)?) -> String {
        var flags = ""
        if client.subscriber.isSubscribedMode { flags += "P" }
        if client.queuedCommands >= 0 { flags += "x" }
        if client.isBlocked { flags += "b" }
        if client.trackingMode != .off { flags += "t" }
        if client.trackingBrokenRedirect { flags += "R" }
        if client.trackingMode == .broadcast { flags += "B" }
        if client.watchState.dirty.load(ordering: .relaxed) { flags += "d" }
        if client.closeAfterReply { flags += "c" }
        if client.closeASAP { flags += "A" }
        if client.noEvict { flags += "e" }
        if client.noTouch { flags += "T" }
        if flags.isEmpty { flags = "N" }
        let age = (now - client.createdAtMillis) / 1000
        let idle = (now - client.lastInteractionMillis) / 1000
        let name = client.name?.description ?? ""
        var memory = client.memory
        // A running command's arguments are views into the read buffer, so tot-mem (taken
        // before the change) counts only copies: a blocked command's saved arguments.
        let total = memory.total
        memory.argumentBytes += memory.parsedArgumentBytes
        if let running {
            memory.argumentBytes = running.argumentBytes
            memory.replyBufferBytes = running.replyBytes
        }
        let events = memory.pendingWrites > 0 ? "rw" : "r"
        return "id=\(client.id) addr=\(client.remoteAddress) laddr=\(client.localAddress) fd=\(client.fd) name=\(name) age=\(age) idle=\(idle) flags=\(flags) db=\(client.db) sub=\(client.subscriber.channelCount) psub=\(client.subscriber.patternCount) ssub=\(client.subscriber.shardCount) multi=\(client.queuedCommands) qbuf=\(memory.queryBufferBytes) qbuf-free=\(memory.queryBufferFree) argv-mem=\(memory.argumentBytes) multi-mem=\(client.queuedBytes) rbs=\(memory.replyBufferSize) rbp=\(memory.replyBufferPeak) obl=\(memory.replyBufferBytes) oll=\(memory.pendingWrites) omem=\(memory.outputMemory) tot-mem=\(total) events=\(events) cmd=\(client.lastCommandName) user=\(client.user) redir=\(client.trackingRedirect) resp=\(client.resp.rawValue) lib-name=\(client.libName) lib-ver=\(client.libVersion)"
    }
}

extension CommandContext {
    /// Redis's HELP reply: a title line, the given lines, then HELP itself.
    public mutating func replyHelp(_ command: String, _ lines: [String]) {
        reply.arrayHeader(lines.count + 3)
        reply.simpleString("\(command) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        for line in lines { reply.simpleString(line) }
        reply.simpleString("HELP")
        reply.simpleString("    Print this help.")
    }
}

/// Version strings the server reports.
public enum ServerInfo {
    /// Clients gate features on this: Apus implements the Redis 7.2 command surface.
    public static let redisVersion = "7.2.4"
    public static let apusVersion = "0.1.0"
}
