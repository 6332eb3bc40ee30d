import ApusRESP

/// The COMMAND family: COMMAND, COMMAND COUNT/INFO/DOCS/LIST/GETKEYS/GETKEYSANDFLAGS/HELP,
/// answered from the generated table like Redis 7.2's server.c. Only commands with a
/// registered handler exist here: an unregistered command is reported like an unknown one.
/// Commands come in name order (Redis uses its dict's order, which clients do not rely on).
public enum CommandCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("command", command)
        registry.register("command|count", count)
        registry.register("command|info", info)
        registry.register("command|docs", docs)
        registry.register("command|list", list)
        registry.register("command|getkeys", getKeys)
        registry.register("command|getkeysandflags", getKeysAndFlags)
        registry.register("command|help", help)
    }

    // MARK: Handlers

    /// COMMAND: the info entry of every command.
    static func command(_ context: inout CommandContext) {
        let commands = context.server.commands.registeredCommands
        context.reply.arrayHeader(commands.count)
        for command in commands { writeInfo(command, into: &context.reply) }
    }

    /// COMMAND COUNT: top-level commands only, as Redis counts its command dict.
    static func count(_ context: inout CommandContext) {
        context.reply.integer(context.server.commands.registeredCommands.count)
    }

    /// COMMAND INFO [name ...]: one entry per name, null for unknown names.
    static func info(_ context: inout CommandContext) {
        let args = context.args
        if args.count == 2 { return command(&context) }
        context.reply.arrayHeader(args.count - 2)
        for i in 2..<args.count {
            writeInfo(findCommand(fullName: args[i], in: context.server.commands), into: &context.reply)
        }
    }

    /// COMMAND DOCS [name ...]: a map from full name to docs; unknown names are left out.
    static func docs(_ context: inout CommandContext) {
        let args = context.args
        let commands: [Command]
        if args.count == 2 {
            commands = context.server.commands.registeredCommands
        } else {
            commands = (2..<args.count).compactMap { findCommand(fullName: args[$0], in: context.server.commands) }
        }
        context.reply.mapHeader(commands.count)
        for command in commands {
            context.reply.bulk(command.spec.fullName)
            writeDocs(command, into: &context.reply)
        }
    }

    /// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: full names,
    /// each command followed by its subcommands.
    static func list(_ context: inout CommandContext) {
        let args = context.args
        enum Filter {
            case module
            case category(ACLCategories?)
            case pattern(UnsafeRawBufferPointer)
        }
        var filter: Filter?
        var i = 2
        while i < args.count {
            let more = args.count - 1 - i
            guard args.isToken(i, "filterby") && more == 2 else { return context.syntaxError() }
            if args.isToken(i + 1, "module") {
                filter = .module
            } else if args.isToken(i + 1, "aclcat") {
                filter = .category(ACLCategories(name: args.string(i + 2)))
            } else if args.isToken(i + 1, "pattern") {
                filter = .pattern(args[i + 2])
            } else {
                return context.syntaxError()
            }
            i += 3
        }

        func included(_ spec: CommandSpec) -> Bool {
            switch filter {
            case nil:
                return true
            case .module:
                return false // Apus loads no modules.
            case .category(let category):
                // An unknown category filters out everything, as in Redis.
                guard let category else { return false }
                return !spec.aclCategories.isDisjoint(with: category)
            case .pattern(let pattern):
                var name = spec.fullName
                return name.withUTF8 { globMatch(pattern: pattern, string: UnsafeRawBufferPointer($0), ignoreCase: true) }
            }
        }

        var names: [String] = []
        for command in context.server.commands.registeredCommands {
            if included(command.spec) { names.append(command.spec.fullName) }
            for sub in command.registeredSubcommands where included(sub.spec) {
                names.append(sub.spec.fullName)
            }
        }
        context.reply.arrayHeader(names.count)
        for name in names { context.reply.bulk(name) }
    }

    /// COMMAND GETKEYS command [arg ...]
    static func getKeys(_ context: inout CommandContext) {
        replyKeys(&context, withFlags: false)
    }

    /// COMMAND GETKEYSANDFLAGS command [arg ...]
    static func getKeysAndFlags(_ context: inout CommandContext) {
        replyKeys(&context, withFlags: true)
    }

    static func help(_ context: inout CommandContext) {
        let lines: [StaticString] = [
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
            "HELP",
            "    Print this help.",
        ]
        context.reply.arrayHeader(lines.count)
        for line in lines { context.reply.simpleString(line) }
    }

    // MARK: Lookup

    /// A registered command by full name ("get", "config|get"), ASCII case-insensitive, as
    /// Redis's strict `lookupCommandBySds` finds it: "config" is the container, "get|x" and
    /// "config|get|x" are nothing.
    static func findCommand(fullName: UnsafeRawBufferPointer, in registry: CommandRegistry) -> Command? {
        guard fullName.count > 0 else { return nil }
        let bar = fullName.firstIndex(of: UInt8(ascii: "|"))
        let base = bar.map { UnsafeRawBufferPointer(rebasing: fullName[..<$0]) } ?? fullName
        guard let command = registry.lookup(base), command.isRegistered else { return nil }
        guard let bar else { return command }
        let rest = UnsafeRawBufferPointer(rebasing: fullName[(bar + 1)...])
        guard !rest.contains(UInt8(ascii: "|")), command.isContainer,
              let key = CommandName(rest), let sub = command.subcommands[key], sub.isRegistered else { return nil }
        return sub
    }

    /// The command a full command line runs (`lookupCommand`): the subcommand of a container
    /// when there is a second argument.
    static func findCommand(invokedBy args: CommandArguments, in registry: CommandRegistry) -> Command? {
        guard args.count > 0, let command = registry.lookup(args[0]), command.isRegistered else { return nil }
        guard args.count > 1, command.isContainer else { return command }
        guard let key = CommandName(args[1]), let sub = command.subcommands[key], sub.isRegistered else { return nil }
        return sub
    }

    // MARK: GETKEYS

    static func replyKeys(_ context: inout CommandContext, withFlags: Bool) {
        let line = context.args.dropFirst(2)
        guard let command = findCommand(invokedBy: line, in: context.server.commands) else {
            return context.reply.error("ERR Invalid command specified")
        }
        let spec = command.spec
        guard spec.hasKeyArguments else {
            return context.reply.error("ERR The command has no key arguments")
        }
        if (spec.arity > 0 && spec.arity != line.count) || line.count < -spec.arity {
            return context.reply.error("ERR Invalid number of arguments specified for command")
        }
        let keys = spec.keyReferences(in: line)
        if keys.isEmpty {
            if spec.flags.contains(.noMandatoryKeys) { return context.reply.arrayHeader(0) }
            return context.reply.error("ERR Invalid arguments specified for command")
        }
        context.reply.arrayHeader(keys.count)
        for key in keys {
            if withFlags {
                context.reply.arrayHeader(2)
                context.reply.bulk(line[key.position])
                writeFlags(key.flags, KeySpecFlags.replyNames, into: &context.reply)
            } else {
                context.reply.bulk(line[key.position])
            }
        }
    }

    // MARK: Reply shapes

    /// A flag set as Redis replies it: a set of status strings, in the table's order.
    static func writeFlags<Flags: OptionSet>(_ flags: Flags, _ names: [(flag: Flags, name: StaticString)],
                                             into reply: inout ReplyWriter) where Flags.Element == Flags {
        let present = names.filter { flags.contains($0.flag) }
        reply.setHeader(present.count)
        for entry in present { reply.simpleString(entry.name) }
    }

    /// One `COMMAND INFO` entry (`addReplyCommandInfo`), or null for no command.
    static func writeInfo(_ command: Command?, into reply: inout ReplyWriter) {
        guard let command else { return reply.null() }
        let spec = command.spec
        reply.arrayHeader(10)
        reply.bulk(spec.fullName)
        reply.integer(spec.arity)
        writeFlags(spec.flags, CommandFlags.replyNames, into: &reply)
        reply.integer(spec.legacyKeyRange.first)
        reply.integer(spec.legacyKeyRange.last)
        reply.integer(spec.legacyKeyRange.step)
        let categories = spec.aclCategories.names
        reply.setHeader(categories.count)
        for name in categories { reply.simpleString("@" + name) }
        reply.setHeader(spec.tips.count)
        for tip in spec.tips { reply.bulk(tip) }
        writeKeySpecs(spec.keySpecs, into: &reply)
        // Redis replies an empty *set* for a command without subcommands, an array otherwise.
        if spec.subcommands.isEmpty {
            reply.setHeader(0)
        } else {
            let subcommands = command.registeredSubcommands
            reply.arrayHeader(subcommands.count)
            for sub in subcommands { writeInfo(sub, into: &reply) }
        }
    }

    /// The key specs of a `COMMAND INFO` entry (`addReplyCommandKeySpecs`).
    static func writeKeySpecs(_ specs: [KeySpec], into reply: inout ReplyWriter) {
        reply.setHeader(specs.count)
        for spec in specs {
            reply.mapHeader(spec.notes == nil ? 3 : 4)
            if let notes = spec.notes {
                reply.bulk("notes")
                reply.bulk(notes)
            }
            reply.bulk("flags")
            writeFlags(spec.flags, KeySpecFlags.replyNames, into: &reply)

            reply.bulk("begin_search")
            reply.mapHeader(2)
            reply.bulk("type")
            switch spec.beginSearch {
            case .unknown:
                reply.bulk("unknown")
                reply.bulk("spec")
                reply.mapHeader(0)
            case .index(let position):
                reply.bulk("index")
                reply.bulk("spec")
                reply.mapHeader(1)
                reply.bulk("index")
                reply.integer(position)
            case .keyword(let keyword, let startFrom):
                reply.bulk("keyword")
                reply.bulk("spec")
                reply.mapHeader(2)
                reply.bulk("keyword")
                reply.bulk(keyword)
                reply.bulk("startfrom")
                reply.integer(startFrom)
            }

            reply.bulk("find_keys")
            reply.mapHeader(2)
            reply.bulk("type")
            switch spec.findKeys {
            case .unknown:
                reply.bulk("unknown")
                reply.bulk("spec")
                reply.mapHeader(0)
            case .range(let lastKey, let step, let limit):
                reply.bulk("range")
                reply.bulk("spec")
                reply.mapHeader(3)
                reply.bulk("lastkey")
                reply.integer(lastKey)
                reply.bulk("keystep")
                reply.integer(step)
                reply.bulk("limit")
                reply.integer(limit)
            case .keyNum(let keyNumIndex, let firstKey, let step):
                reply.bulk("keynum")
                reply.bulk("spec")
                reply.mapHeader(3)
                reply.bulk("keynumidx")
                reply.integer(keyNumIndex)
                reply.bulk("firstkey")
                reply.integer(firstKey)
                reply.bulk("keystep")
                reply.integer(step)
            }
        }
    }

    /// One `COMMAND DOCS` entry (`addReplyCommandDocs`).
    static func writeDocs(_ command: Command, into reply: inout ReplyWriter) {
        let spec = command.spec
        var fields = 1 // group
        if spec.summary != nil { fields += 1 }
        if spec.since != nil { fields += 1 }
        if spec.complexity != nil { fields += 1 }
        if !spec.docFlags.isEmpty { fields += 1 }
        if spec.deprecatedSince != nil { fields += 1 }
        if spec.replacedBy != nil { fields += 1 }
        if !spec.history.isEmpty { fields += 1 }
        if !spec.arguments.isEmpty { fields += 1 }
        if !spec.subcommands.isEmpty { fields += 1 }
        reply.mapHeader(fields)

        if let summary = spec.summary {
            reply.bulk("summary")
            reply.bulk(summary)
        }
        if let since = spec.since {
            reply.bulk("since")
            reply.bulk(since)
        }
        reply.bulk("group")
        reply.bulk(spec.docsGroup)
        if let complexity = spec.complexity {
            reply.bulk("complexity")
            reply.bulk(complexity)
        }
        if !spec.docFlags.isEmpty {
            reply.bulk("doc_flags")
            writeFlags(spec.docFlags, CommandDocFlags.replyNames, into: &reply)
        }
        if let deprecatedSince = spec.deprecatedSince {
            reply.bulk("deprecated_since")
            reply.bulk(deprecatedSince)
        }
        if let replacedBy = spec.replacedBy {
            reply.bulk("replaced_by")
            reply.bulk(replacedBy)
        }
        if !spec.history.isEmpty {
            reply.bulk("history")
            reply.setHeader(spec.history.count)
            for entry in spec.history {
                reply.arrayHeader(2)
                reply.bulk(entry.since)
                reply.bulk(entry.changes)
            }
        }
        if !spec.arguments.isEmpty {
            reply.bulk("arguments")
            writeArguments(spec.arguments, into: &reply)
        }
        if !spec.subcommands.isEmpty {
            reply.bulk("subcommands")
            let subcommands = command.registeredSubcommands
            reply.mapHeader(subcommands.count)
            for sub in subcommands {
                reply.bulk(sub.spec.fullName)
                writeDocs(sub, into: &reply)
            }
        }
    }

    /// An argument tree of `COMMAND DOCS` (`addReplyCommandArgList`).
    static func writeArguments(_ arguments: [CommandArgument], into reply: inout ReplyWriter) {
        reply.arrayHeader(arguments.count)
        for argument in arguments {
            let hasChildren = argument.type == .oneOf || argument.type == .block
            var fields = 2 // name, type
            if !hasChildren { fields += 1 } // display_text
            if argument.keySpecIndex != nil { fields += 1 }
            if argument.token != nil { fields += 1 }
            if argument.summary != nil { fields += 1 }
            if argument.since != nil { fields += 1 }
            if argument.deprecatedSince != nil { fields += 1 }
            if !argument.flags.isEmpty { fields += 1 }
            if hasChildren { fields += 1 }
            reply.mapHeader(fields)

            reply.bulk("name")
            reply.bulk(argument.name)
            reply.bulk("type")
            reply.bulk(argument.type.rawValue)
            if !hasChildren {
                reply.bulk("display_text")
                reply.bulk(argument.displayText ?? argument.name)
            }
            if let index = argument.keySpecIndex {
                reply.bulk("key_spec_index")
                reply.integer(index)
            }
            if let token = argument.token {
                reply.bulk("token")
                reply.bulk(token)
            }
            if let summary = argument.summary {
                reply.bulk("summary")
                reply.bulk(summary)
            }
            if let since = argument.since {
                reply.bulk("since")
                reply.bulk(since)
            }
            if let deprecatedSince = argument.deprecatedSince {
                reply.bulk("deprecated_since")
                reply.bulk(deprecatedSince)
            }
            if !argument.flags.isEmpty {
                reply.bulk("flags")
                writeFlags(argument.flags, ArgumentFlags.replyNames, into: &reply)
            }
            if hasChildren {
                reply.bulk("arguments")
                writeArguments(argument.arguments, into: &reply)
            }
        }
    }
}
