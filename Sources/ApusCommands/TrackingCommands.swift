import ApusRESP
import ApusStore

/// CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR, CLIENT TRACKINGINFO (client-side
/// caching; the table lives in `TrackingRegistry`).
enum TrackingCommands {
    static func register(into registry: CommandRegistry) {
        registry.register("client|tracking", tracking)
        registry.register("client|caching", caching)
        registry.register("client|getredir", getRedirect)
        registry.register("client|trackinginfo", trackingInfo)
    }

    /// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP],
    /// with Redis's checks in Redis's order.
    static func tracking(_ c: inout CommandContext) {
        var options: TrackingOptions = []
        var redirect = 0
        var prefixes: [Bytes] = []
        var i = 3
        while i < c.args.count {
            let moreArgs = c.args.count - 1 - i
            if c.args.isToken(i, "redirect") && moreArgs > 0 {
                i += 1
                if redirect != 0 { return c.reply.error("ERR A client can only redirect to a single other client") }
                guard let id = c.integerArgument(i) else { return }
                guard c.server.clients.client(id: id) != nil else {
                    return c.reply.error("ERR The client ID you want redirect to does not exist")
                }
                redirect = id
            } else if c.args.isToken(i, "bcast") {
                options.insert(.bcast)
            } else if c.args.isToken(i, "optin") {
                options.insert(.optIn)
            } else if c.args.isToken(i, "optout") {
                options.insert(.optOut)
            } else if c.args.isToken(i, "noloop") {
                options.insert(.noLoop)
            } else if c.args.isToken(i, "prefix") && moreArgs > 0 {
                i += 1
                prefixes.append(c.args.bytes(i))
            } else {
                return c.syntaxError()
            }
            i += 1
        }
        let registry = c.server.tracking
        let client = c.client
        if c.args.isToken(2, "on") {
            if !options.contains(.bcast) && !prefixes.isEmpty {
                return c.reply.error("ERR PREFIX option requires BCAST mode to be enabled")
            }
            let current = registry.settings(of: client)
            if let current, current.options.contains(.bcast) != options.contains(.bcast) {
                return c.reply.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            if options.contains(.bcast) && (options.contains(.optIn) || options.contains(.optOut)) {
                return c.reply.error("ERR OPTIN and OPTOUT are not compatible with BCAST")
            }
            if options.contains(.optIn) && options.contains(.optOut) {
                return c.reply.error("ERR You can't specify both OPTIN mode and OPTOUT mode")
            }
            if let current,
               (options.contains(.optIn) && current.options.contains(.optOut))
                || (options.contains(.optOut) && current.options.contains(.optIn)) {
                return c.reply.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            if options.contains(.bcast), let collision = registry.prefixCollision(client, prefixes) {
                return c.reply.error(collision)
            }
            registry.enable(client, options: options, redirect: redirect, prefixes: prefixes)
        } else if c.args.isToken(2, "off") {
            registry.disable(client)
        } else {
            return c.syntaxError()
        }
        c.reply.ok()
    }

    static func caching(_ c: inout CommandContext) {
        guard let settings = c.server.tracking.settings(of: c.client) else {
            return c.reply.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
        }
        if c.args.isToken(2, "yes") {
            guard settings.options.contains(.optIn) else {
                return c.reply.error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
            }
        } else if c.args.isToken(2, "no") {
            guard settings.options.contains(.optOut) else {
                return c.reply.error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
            }
        } else {
            return c.syntaxError()
        }
        c.client.trackingCaching = true
        c.reply.ok()
    }

    static func getRedirect(_ c: inout CommandContext) {
        c.reply.integer(c.server.tracking.settings(of: c.client)?.redirect ?? -1)
    }

    static func trackingInfo(_ c: inout CommandContext) {
        let settings = c.server.tracking.settings(of: c.client)
        c.reply.mapHeader(3)
        c.reply.bulk("flags")
        var flags = [settings == nil ? "off" : "on"]
        if let settings {
            if settings.options.contains(.bcast) { flags.append("bcast") }
            if settings.options.contains(.optIn) {
                flags.append("optin")
                if c.client.trackingCaching { flags.append("caching-yes") }
            }
            if settings.options.contains(.optOut) {
                flags.append("optout")
                if c.client.trackingCaching { flags.append("caching-no") }
            }
            if settings.options.contains(.noLoop) { flags.append("noloop") }
            if settings.brokenRedirect { flags.append("broken_redirect") }
        }
        c.reply.setHeader(flags.count)
        for flag in flags { c.reply.bulk(flag) }
        c.reply.bulk("redirect")
        c.reply.integer(settings?.redirect ?? -1)
        c.reply.bulk("prefixes")
        let prefixes = (settings?.prefixes ?? []).sorted()
        c.reply.arrayHeader(prefixes.count)
        for prefix in prefixes { c.reply.bulk(prefix) }
    }

    /// After a read-only command of a tracking client (or of a script it runs): remember the
    /// keys it read for that client.
    static func rememberKeys(_ command: Command, _ c: inout CommandContext) {
        guard !command.flags.contains(.pubsub) else { return }
        let args = c.args
        let references = command.spec.keyReferences(in: args)
        if references.isEmpty { return }
        c.server.tracking.remember(c.client.onBehalfOf ?? c.client, keys: references.map { args[$0.position] },
                                   maxKeys: c.server.config.int("tracking-table-max-keys"))
    }

    /// EVAL_RO, EVALSHA_RO and FCALL_RO: read-only commands whose own keys are not tracked.
    static func isScriptCall(_ command: Command) -> Bool {
        switch command.spec.name {
        case "eval_ro", "evalsha_ro", "fcall_ro": return true
        default: return false
        }
    }
}
