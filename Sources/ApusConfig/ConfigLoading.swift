// Loading redis.conf files and redis-server style arguments (config.c
// loadServerConfig/loadServerConfigFromString and server.c main()'s argument merging).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How deep `include` may nest. Redis has no limit and crashes on an include cycle;
/// here a cycle is a config error instead.
private let maximumIncludeDepth = 64

/// Directives Redis 7.2 still accepts and ignores (with exactly one argument).
private let deprecatedDirectives: Set<String> = ["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"]

extension ConfigRegistry {
    /// Loads a redis.conf file (like `redis-server /path/redis.conf`) and remembers it as
    /// the file CONFIG REWRITE writes. Directives apply in order on top of the current
    /// values; `include` files are read where they appear (globs allowed: a pattern that
    /// matches nothing is skipped). Errors are Redis's fatal config error text.
    public func loadFile(path: String) throws(ConfigError) {
        try serialized { () throws(ConfigError) in
            let absolute = absoluteConfigFilePath(path)
            state.withLock { $0.configFilePath = absolute }
            try loadConfig(file: absolute, standardInput: nil, options: nil, depth: 0)
        }
    }

    /// Applies redis-server's command line (without the program name), exactly as
    /// Redis merges it: an optional config file path first; `-` (first or last) to read
    /// config text from standard input; then `--name value...` options, which are turned
    /// into config lines appended after the file (`--port 7000 --save ""` →
    /// `port "7000"` / `save ""`). A bare `--save` before another option or at the end
    /// means `save ""`. Later directives win.
    ///
    /// `-v`, `--version`, `-h`, `--help`, `--test-memory`, `--check-system` and
    /// `--sentinel` mode are the executable's business and are not handled here.
    ///
    /// - Parameter standardInput: supplies the text for `-` (default: reads stdin to EOF).
    public func applyArguments(_ args: [String], standardInput: (() -> String)? = nil) throws(ConfigError) {
        guard !args.isEmpty else { return }
        var index = 0
        var configFile: String?
        if !args[0].hasPrefix("-") {
            configFile = absoluteConfigFilePath(args[0])
            index = 1
        }
        var options = ""
        var readStandardInput = false
        var previousOptionHasValue = true
        while index < args.count {
            let argument = args[index]
            let isLast = index == args.count - 1
            if argument == "-" && (index == 0 || isLast) {
                readStandardInput = true
            } else if previousOptionHasValue && argument.utf8.starts(with: "--".utf8) {
                if !options.isEmpty { options += "\n" }
                options += String(decoding: argument.utf8.dropFirst(2), as: UTF8.self) + " "
                if splitConfigArguments(argument)?.count == 1 {
                    // Only a name so far (`--port`): its values follow as separate arguments.
                    previousOptionHasValue = false
                    let nextIsOption = !isLast && args[index + 1].utf8.starts(with: "--".utf8)
                    if asciiCaseEqual(argument, "--save") && (nextIsOption || isLast) {
                        // Redis 7.0.1+ keeps `--save --port 6380` and a trailing `--save`
                        // meaning "no snapshots", as generated command lines produce them.
                        options += "\"\""
                        previousOptionHasValue = true
                    } else if asciiCaseEqual(argument, "--sentinel") && nextIsOption {
                        previousOptionHasValue = true
                    }
                } else {
                    // Name and value in one argument: `"--port 6380"`.
                    previousOptionHasValue = true
                }
            } else {
                options += quoteConfigArgument(argument) + " "
                previousOptionHasValue = true
            }
            index += 1
        }

        try serialized { () throws(ConfigError) in
            if let configFile { state.withLock { $0.configFilePath = configFile } }
            try loadConfig(file: configFile, standardInput: readStandardInput ? (standardInput ?? readAllStandardInput) : nil,
                           options: options, depth: 0)
        }
    }

    /// `loadServerConfig`: file (or glob), then stdin, then options, parsed as one text.
    private func loadConfig(file: String?, standardInput: (() -> String)?, options: String?, depth: Int) throws(ConfigError) {
        var text = ""
        if let file {
            if file.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }) {
                for path in globPaths(file) {
                    text += try readConfigFile(path)
                }
            } else {
                text += try readConfigFile(file)
            }
        }
        if let standardInput { text += standardInput() }
        if let options { text += "\n" + options }
        try loadConfigText(text, depth: depth)
    }

    private func readConfigFile(_ path: String) throws(ConfigError) -> String {
        let base = state.withLock { $0.directory }
        switch readWholeFile(absolutePath(path, relativeTo: base)) {
        case .success(let contents): return contents
        case .failure(let error):
            throw ConfigError("Fatal error, can't open config file '\(path)': \(errnoDescription(error.code))")
        }
    }

    private func globPaths(_ pattern: String) -> [String] {
        let base = state.withLock { $0.directory }
        var results = glob_t()
        defer { globfree(&results) }
        guard glob(absolutePath(pattern, relativeTo: base), 0, nil, &results) == 0 else { return [] }
        return (0..<Int(results.gl_pathc)).compactMap { i in results.gl_pathv[i].map { String(cString: $0) } }
    }

    /// `loadServerConfigFromString`.
    private func loadConfigText(_ text: String, depth: Int) throws(ConfigError) {
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { trimConfigLine(String(decoding: $0, as: UTF8.self)) }

        for (offset, line) in lines.enumerated() {
            let lineNumber = offset + 1
            func fatal(_ reason: String) -> ConfigError {
                fatalConfigError(reason, line: lineNumber, text: line)
            }
            if line.isEmpty || line.utf8.first == UInt8(ascii: "#") { continue }
            guard var argv = splitConfigArguments(line) else { throw fatal("Unbalanced quotes in configuration line") }
            if argv.isEmpty { continue }
            argv[0] = asciiLowercased(argv[0])
            let directive = argv[0]

            if let entry = configCatalog.lookup(directive) {
                let multiArgument = configCatalog.parameters[entry.index].flags.contains(.multiArgument)
                if !multiArgument && argv.count != 2 { throw fatal("wrong number of arguments") }
                let arguments: [String]
                if multiArgument && argv.count == 2 && !argv[1].isEmpty {
                    // `save "3600 1 300 100"` or `--save "3600 1"`: one argument holding several.
                    arguments = splitConfigArguments(argv[1]) ?? []
                } else {
                    arguments = Array(argv.dropFirst())
                }
                let outcome: (changed: Bool, rendered: String)
                do throws(ConfigReason) {
                    outcome = try assign(entry.index, arguments, readingFile: true)
                } catch {
                    throw fatal(error.text)
                }
                if outcome.changed, let error = runHooks(entry.index, value: outcome.rendered) {
                    throw fatal(error.message)
                }
                continue
            }
            if deprecatedDirectives.contains(directive) && argv.count == 2 { continue }

            let arguments = Array(argv.dropFirst())
            switch directive {
            case "include" where argv.count == 2:
                if depth >= maximumIncludeDepth { throw fatal("Too many nested includes (is there an include cycle?)") }
                try loadConfig(file: argv[1], standardInput: nil, options: nil, depth: depth + 1)
            case "rename-command" where argv.count == 3:
                try runDirectiveHandlers(directive, arguments, fatal)
                fileDirectives.withLock { $0.commandRenames.append((argv[1], argv[2])) }
            case "user" where argv.count >= 2:
                try runDirectiveHandlers(directive, arguments, fatal)
                fileDirectives.withLock { $0.users.append(arguments) }
            case "loadmodule" where argv.count >= 2:
                try runDirectiveHandlers(directive, arguments, fatal)
                fileDirectives.withLock { $0.loadModules.append(arguments) }
            default:
                if directive.utf8.contains(UInt8(ascii: ".")) {
                    if argv.count < 2 { throw fatal("Module config specified without value") }
                    let value = arguments.joined(separator: " ")
                    fileDirectives.withLock { directives in
                        if let i = directives.moduleConfigs.firstIndex(where: { $0.name == directive }) {
                            directives.moduleConfigs[i].value = value
                        } else {
                            directives.moduleConfigs.append((directive, value))
                        }
                    }
                } else if directive == "sentinel" {
                    // A bare `sentinel` selects Sentinel mode in Redis's main(); anything
                    // else needs that mode, which Apus does not have.
                    if argv.count != 1 { throw fatal("sentinel directive while not in sentinel mode") }
                } else {
                    throw fatal("Bad directive or wrong number of arguments")
                }
            }
        }
        try checkLoadedConfig()
    }

    private func runDirectiveHandlers(_ directive: String, _ arguments: [String],
                                      _ fatal: (String) -> ConfigError) throws(ConfigError) {
        let handlers = registrations.withLock { $0.directiveHandlers[directive] ?? [] }
        for handler in handlers {
            do throws(ConfigError) {
                try handler(arguments)
            } catch {
                throw fatal(error.message)
            }
        }
    }

    /// The checks Redis makes after each loaded text.
    private func checkLoadedConfig() throws(ConfigError) {
        let (logfile, directory, clusterEnabled, replicaOf, databases) = state.withLock { state in
            (state.optionalString("logfile") ?? "", state.directory, state.flag("cluster-enabled"),
             state.value(named: "replicaof"), state.number("databases"))
        }
        if !logfile.isEmpty {
            // Redis makes sure it can open the log file now, as it cannot fail later.
            let fd = open(absolutePath(logfile, relativeTo: directory), O_WRONLY | O_CREAT | O_APPEND, 0o666)
            if fd < 0 { throw fatalConfigError("Can't open the log file: \(errnoDescription(errno))") }
            close(fd)
        }
        if clusterEnabled && replicaOf != .replicaOf(nil) {
            throw fatalConfigError("replicaof directive not allowed in cluster mode")
        }
        if clusterEnabled && databases > 1 {
            // Redis 7.2 logs a warning and uses a single database in cluster mode.
            let index = configCatalog.index(of: "databases")!
            state.withLock { state in
                state.values[index] = .number(1)
                fastValues.publish(index, state.values[index])
            }
        }
    }
}

/// The block Redis prints to stderr before exiting on a bad config.
func fatalConfigError(_ reason: String, line: Int? = nil, text: String? = nil) -> ConfigError {
    var message = "*** FATAL CONFIG FILE ERROR (Redis \(ConfigRegistry.redisVersion)) ***\n"
    if let line, let text {
        message += "Reading the configuration file, at line \(line)\n>>> '\(text)'\n"
    }
    message += reason
    return ConfigError(message)
}

/// `sdstrim(line, " \t\r\n")`.
func trimConfigLine(_ line: String) -> String {
    let bytes = Array(line.utf8)
    func isTrimmed(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 10 }
    guard let first = bytes.firstIndex(where: { !isTrimmed($0) }) else { return "" }
    let last = bytes.lastIndex(where: { !isTrimmed($0) })!
    if first == 0 && last == bytes.count - 1 { return line }
    return String(decoding: bytes[first...last], as: UTF8.self)
}

/// Redis's `getAbsolutePath`: trims blanks, joins relative paths to the working
/// directory, and folds leading `../`.
func absoluteConfigFilePath(_ path: String) -> String {
    let relative = trimConfigLine(path)
    if relative.hasPrefix("/") { return relative }
    var base = currentWorkingDirectory() ?? "/"
    if !base.hasSuffix("/") { base += "/" }
    var rest = Substring(relative)
    while rest.hasPrefix("../") {
        rest = rest.dropFirst(3)
        if base.count > 1 {
            base.removeLast()  // the trailing "/"
            while let last = base.last, last != "/" { base.removeLast() }
        }
    }
    return base + rest
}

/// An errno from a failed system call.
struct SystemCallError: Error {
    let code: Int32
}

/// Reads a whole file, or returns the errno of the failure.
func readWholeFile(_ path: String) -> Result<String, SystemCallError> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return .failure(SystemCallError(code: errno)) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            // Redis reads with fgets and treats a read error (e.g. EISDIR) as end of file.
            break
        }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return .success(String(decoding: bytes, as: UTF8.self))
}

private func readAllStandardInput() -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
