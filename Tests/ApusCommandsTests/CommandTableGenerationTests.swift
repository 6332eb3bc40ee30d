import ApusCommands
import Foundation
import Testing

/// The generated table against the JSON specs it was generated from (../shared/redis-commands).
@Suite struct CommandTableGenerationTests {
    /// Every command and subcommand of the table by full name.
    static let byFullName: [String: CommandSpec] = {
        var table: [String: CommandSpec] = [:]
        for spec in CommandTable.specs {
            table[spec.fullName] = spec
            for sub in spec.subcommands { table[sub.fullName] = sub }
        }
        return table
    }()

    /// The JSON specs, keyed by full name ("get", "config|get").
    nonisolated(unsafe) static let json: [String: [String: Any]] = {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/redis-commands")
        var result: [String: [String: Any]] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for file in files where file.hasSuffix(".json") {
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(file)),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            for (name, value) in object {
                guard let spec = value as? [String: Any] else { continue }
                let container = (spec["container"] as? String)?.lowercased()
                result[container.map { "\($0)|\(name.lowercased())" } ?? name.lowercased()] = spec
            }
        }
        return result
    }()

    static func spec(_ fullName: String) -> CommandSpec {
        guard let spec = byFullName[fullName] else { fatalError("no spec for \(fullName)") }
        return spec
    }

    /// The specs live beside the repository on development machines, not in a CI clone.
    static let specsAvailable = !json.isEmpty

    @Test(.enabled(if: specsAvailable, "needs ../shared/redis-commands beside the repository"))
    func tableHasEveryCommandAndSubcommandOfTheJSONSpecs() {
        #expect(Self.json.count == 392)
        #expect(CommandTable.specs.count == 242)
        #expect(CommandTable.specs.reduce(0) { $0 + $1.subcommands.count } == 150)
        #expect(Set(Self.json.keys) == Set(Self.byFullName.keys))
    }

    @Test func tableIsSortedByNameAndSubcommandsByName() {
        let names = CommandTable.specs.map(\.name)
        #expect(names == names.sorted())
        for spec in CommandTable.specs {
            let subs = spec.subcommands.map(\.name)
            #expect(subs == subs.sorted())
        }
    }

    @Test(.enabled(if: specsAvailable, "needs ../shared/redis-commands beside the repository"))
    func everySpecMatchesItsJSONArityDocsAndShape() {
        for (fullName, json) in Self.json {
            guard let spec = Self.byFullName[fullName] else { continue }
            #expect(spec.arity == json["arity"] as? Int, "\(fullName)")
            #expect(spec.summary == json["summary"] as? String, "\(fullName)")
            #expect(spec.since == json["since"] as? String, "\(fullName)")
            #expect(spec.complexity == json["complexity"] as? String, "\(fullName)")
            #expect(spec.group == json["group"] as? String, "\(fullName)")
            #expect(spec.deprecatedSince == json["deprecated_since"] as? String, "\(fullName)")
            #expect(spec.replacedBy == json["replaced_by"] as? String, "\(fullName)")
            #expect(spec.keySpecs.count == ((json["key_specs"] as? [Any])?.count ?? 0), "\(fullName)")
            #expect(spec.arguments.count == ((json["arguments"] as? [Any])?.count ?? 0), "\(fullName)")
            let tips = (json["command_tips"] as? [String] ?? []).map { $0.lowercased() }
            #expect(spec.tips == tips, "\(fullName)")
            let history = (json["history"] as? [[String]] ?? []).map { CommandHistoryEntry($0[0], $0[1]) }
            #expect(spec.history == history, "\(fullName)")
            #expect((spec.keysProcedure != nil) == (json["get_keys_function"] != nil), "\(fullName)")
            if fullName.contains("|") {
                #expect(spec.fullName.hasSuffix("|" + spec.name), "\(fullName)")
            } else {
                #expect(spec.fullName == spec.name, "\(fullName)")
            }
        }
    }

    @Test func getIsAReadOnlyFastCommandWithOneKey() {
        let get = Self.spec("get")
        #expect(get.arity == 2)
        #expect(get.flags == [.readonly, .fast])
        #expect(get.aclCategories == [.read, .string, .fast])
        #expect(get.keySpecs == [KeySpec(flags: [.ro, .access], beginSearch: .index(1),
                                         findKeys: .range(lastKey: 0, step: 1, limit: 0))])
        #expect(get.legacyKeyRange == LegacyKeyRange(first: 1, last: 1, step: 1))
        #expect(get.arguments.map(\.name) == ["key"])
        #expect(get.arguments[0].type == .key && get.arguments[0].keySpecIndex == 0)
    }

    @Test func zunionstoreHasADestinationAndNumberedKeysAndMovableKeys() {
        let spec = Self.spec("zunionstore")
        #expect(spec.arity == -4)
        #expect(spec.flags == [.write, .denyoom, .movableKeys])
        #expect(spec.keySpecs.count == 2)
        #expect(spec.keySpecs[1].beginSearch == .index(2))
        #expect(spec.keySpecs[1].findKeys == .keyNum(keyNumIndex: 0, firstKey: 1, step: 1))
        #expect(spec.keysProcedure == .zunionInterDiffStore)
        // Only the destination forms a plain range.
        #expect(spec.legacyKeyRange == LegacyKeyRange(first: 1, last: 1, step: 1))
        let aggregate = spec.arguments.first { $0.name == "aggregate" }
        #expect(aggregate?.type == .oneOf)
        #expect(aggregate?.token == "AGGREGATE")
        #expect(aggregate?.flags == [.optional])
        #expect(aggregate?.arguments.map { $0.token ?? "" } == ["SUM", "MIN", "MAX"])
    }

    @Test func legacyKeyRangeGluesConsecutiveRangesAndCountsFromTheEnd() {
        #expect(Self.spec("mset").legacyKeyRange == LegacyKeyRange(first: 1, last: -1, step: 2))
        #expect(Self.spec("del").legacyKeyRange == LegacyKeyRange(first: 1, last: -1, step: 1))
        #expect(Self.spec("blpop").legacyKeyRange == LegacyKeyRange(first: 1, last: -2, step: 1))
        #expect(Self.spec("rename").legacyKeyRange == LegacyKeyRange(first: 1, last: 2, step: 1))
        #expect(Self.spec("smove").legacyKeyRange == LegacyKeyRange(first: 1, last: 2, step: 1))
        #expect(Self.spec("memory|usage").legacyKeyRange == LegacyKeyRange(first: 2, last: 2, step: 1))
        #expect(Self.spec("eval").legacyKeyRange == .none)
        #expect(Self.spec("ping").legacyKeyRange == .none)
        #expect(!Self.spec("mset").flags.contains(.movableKeys))
        #expect(!Self.spec("rename").flags.contains(.movableKeys))
        #expect(Self.spec("eval").flags.contains(.movableKeys))
        #expect(Self.spec("sort").flags.contains(.movableKeys))
        #expect(Self.spec("migrate").flags.contains(.movableKeys))
        #expect(Self.spec("xread").flags.contains(.movableKeys))
    }

    @Test func aclCategoriesIncludeTheOnesRedisImplies() {
        // ADMIN implies @admin and @dangerous; not FAST implies @slow.
        #expect(Self.spec("config|get").aclCategories == [.admin, .slow, .dangerous])
        // BLOCKING implies @blocking; WRITE implies @write.
        #expect(Self.spec("blpop").aclCategories == [.write, .list, .slow, .blocking])
        // PUBSUB implies @pubsub.
        #expect(Self.spec("publish").aclCategories.contains(.pubsub))
        // Read-only scripting commands are kept out of @read.
        #expect(!Self.spec("eval_ro").aclCategories.contains(.read))
        #expect(Self.spec("eval_ro").aclCategories.contains(.scripting))
        #expect(Self.spec("config").aclCategories == [.slow])
        #expect(Self.spec("get").aclCategories.names == ["read", "string", "fast"])
        #expect(ACLCategories(name: "SortedSet") == .sortedSet)
        #expect(ACLCategories(name: "nosuch") == nil)
    }

    @Test func subcommandsCarryTheirContainerInTheFullName() {
        let config = Self.spec("config")
        #expect(config.subcommands.map(\.fullName) == ["config|get", "config|help", "config|resetstat",
                                                       "config|rewrite", "config|set"])
        let get = config.subcommand(named: "get")
        #expect(get?.name == "get")
        #expect(get?.arity == -3)
        #expect(get?.group == "server")
        #expect(Self.spec("client|no-evict").name == "no-evict")
    }

    @Test func docsMetadataIsCarriedThrough() {
        let georadius = Self.spec("georadius")
        #expect(georadius.docFlags == [.deprecated])
        #expect(georadius.deprecatedSince == "6.2.0")
        #expect(georadius.replacedBy == "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument")
        // Tokens are uppercased and display texts kept, as Redis's generator does.
        let unit = georadius.arguments.first { $0.name == "unit" }
        #expect(unit?.arguments.map { $0.token ?? "" } == ["M", "KM", "FT", "MI"])
        let store = georadius.arguments.first { $0.name == "store" }
        #expect(store?.arguments.first?.displayText == "key")
        #expect(store?.arguments.first?.keySpecIndex == 1)
        #expect(Self.spec("zadd").docsGroup == "sorted-set")
        #expect(Self.spec("pfdebug").docFlags == [.syscmd])
        let migrate = Self.spec("migrate")
        #expect(migrate.arguments.first { $0.name == "key-selector" }?.arguments.last?.token == "\"\"")
        let clientKill = Self.spec("client|kill")
        let filter = clientKill.arguments.first
        #expect(filter?.arguments.first?.deprecatedSince == "2.8.12")
        let get = Self.spec("bitfield_ro").arguments.first { $0.token == "GET" }
        #expect(get?.flags == [.optional, .multiple, .multipleToken])
        #expect(Self.spec("set").keySpecs[0].notes != nil)
    }

    @Test func generatedFilesSayTheyAreGenerated() throws {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/ApusCommands/Generated")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count == 18)
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(text.hasPrefix("// Generated by apus-commandgen from ../shared/redis-commands"), "\(file)")
            #expect(text.contains("Do not edit by hand"), "\(file)")
        }
    }
}
