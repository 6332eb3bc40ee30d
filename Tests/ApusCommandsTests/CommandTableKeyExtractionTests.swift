@testable import ApusCommands
import ApusRESP
import Testing

/// Key positions found from key specs and keys procedures, as Redis's
/// `getKeysFromCommandWithSpecs` finds them (checked against `COMMAND GETKEYSANDFLAGS` of a
/// real redis-server).
@Suite struct CommandTableKeyExtractionTests {
    /// The spec of `name` ("get", "memory|usage").
    static func spec(_ fullName: String) -> CommandSpec {
        let parts = fullName.split(separator: "|").map(String.init)
        guard let command = CommandTable.specs.first(where: { $0.name == parts[0] }) else { fatalError(fullName) }
        return parts.count == 1 ? command : command.subcommand(named: parts[1])!
    }

    /// Runs `body` with `words` as command arguments (an empty word is an empty argument).
    static func withArguments<R>(_ words: [String], _ body: (CommandArguments) -> R) -> R {
        let storage = words.map { word -> UnsafeMutableRawBufferPointer in
            let bytes = Array(word.utf8)
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            p.copyBytes(from: bytes)
            return UnsafeMutableRawBufferPointer(rebasing: p[0..<bytes.count])
        }
        defer { for p in storage { p.deallocate() } }
        let views = storage.map { UnsafeRawBufferPointer($0) }
        return views.withUnsafeBufferPointer { body(CommandArguments($0)) }
    }

    /// The key positions and flags of a command line, from its own spec.
    static func keys(_ line: String) -> [KeyReference] {
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map { $0 == "\"\"" ? "" : String($0) }
        var name = words[0].lowercased()
        let container = CommandTable.specs.first { $0.name == name }!
        if !container.subcommands.isEmpty, words.count > 1 { name += "|" + words[1].lowercased() }
        return withArguments(words) { spec(name).keyReferences(in: $0) }
    }

    static func positions(_ line: String) -> [Int] { keys(line).map(\.position) }

    @Test func getHasOneReadOnlyKey() {
        #expect(Self.keys("GET k") == [KeyReference(position: 1, flags: [.ro, .access])])
    }

    @Test func msetKeysAreEveryOtherArgument() {
        #expect(Self.positions("MSET a 1 b 2 c 3") == [1, 3, 5])
        #expect(Self.keys("MSET a 1").first?.flags == [.ow, .update])
        // An odd count is MSET's own arity error; the spec still stops at the last argument.
        #expect(Self.positions("MSET a 1 b") == [1, 3])
    }

    @Test func zunionstoreReadsNumkeysAndPutsTheDestinationFirst() {
        let keys = Self.keys("ZUNIONSTORE dst 2 a b WEIGHTS 1 2")
        #expect(keys.map(\.position) == [1, 3, 4])
        #expect(keys[0].flags == [.ow, .update])
        #expect(keys[1].flags == [.ro, .access])
        // Invalid numkeys: the specs fail and Redis's fallback finds nothing either.
        #expect(Self.positions("ZUNIONSTORE dst abc a b") == [])
        #expect(Self.positions("ZUNIONSTORE dst 3 a b") == [])
        #expect(Self.positions("ZUNIONSTORE dst 0 a") == [])
        #expect(Self.positions("ZUNIONSTORE dst -1 a") == [])
        #expect(Self.positions("ZUNION 2 a b WITHSCORES") == [2, 3])
        #expect(Self.positions("ZINTERCARD 2 a b LIMIT 1") == [2, 3])
        #expect(Self.positions("SINTERCARD 1 a") == [2])
        #expect(Self.positions("LMPOP 2 a b LEFT") == [2, 3])
        #expect(Self.positions("BLMPOP 0 2 a b LEFT") == [3, 4])
        #expect(Self.positions("BZMPOP 0 1 a MIN") == [3])
    }

    @Test func xreadKeysFollowTheStreamsKeyword() {
        #expect(Self.positions("XREAD STREAMS a b 0 0") == [2, 3])
        #expect(Self.positions("XREAD COUNT 2 BLOCK 0 STREAMS a b 0 0") == [6, 7])
        // The keyword search does not look at the last argument.
        #expect(Self.positions("XREAD BLOCK 0 STREAMS streams 0") == [4])
        // Half the remaining arguments, rounded down, as Redis's range limit computes it.
        #expect(Self.positions("XREAD STREAMS a b 0") == [2])
        #expect(Self.positions("XREADGROUP GROUP g c STREAMS a b 0 0") == [5, 6])
        #expect(Self.keys("XREADGROUP GROUP g c STREAMS a 0").first?.flags == [.ro, .access])
    }

    @Test func evalKeysAreNumbered() {
        let keys = Self.keys("EVAL script 2 a b arg")
        #expect(keys.map(\.position) == [3, 4])
        #expect(keys[0].flags == [.rw, .access, .update])
        #expect(Self.positions("EVAL script 0") == [])
        #expect(Self.positions("EVAL script 3 a b") == [])
        #expect(Self.positions("EVAL script x a b") == [])
        #expect(Self.positions("EVAL script 9223372036854775807 a") == [])
        #expect(Self.positions("EVAL script 4294967297 a") == [3])
        #expect(Self.positions("EVALSHA sha 1 a") == [3])
        #expect(Self.positions("FCALL f 2 a b x") == [3, 4])
        #expect(Self.keys("EVAL_RO script 1 a").first?.flags == [.ro, .access])
    }

    @Test func sortFindsTheLastStoreDestination() {
        #expect(Self.keys("SORT k") == [KeyReference(position: 1, flags: [.ro, .access])])
        #expect(Self.keys("SORT k STORE dst") == [KeyReference(position: 1, flags: [.ro, .access]),
                                                   KeyReference(position: 3, flags: [.ow, .update])])
        #expect(Self.positions("SORT k BY x GET y STORE dst LIMIT 0 1") == [1, 7])
        #expect(Self.positions("SORT k STORE a STORE b") == [1, 5])
        // LIMIT skips two values, so "store" there is not the option.
        #expect(Self.positions("SORT k LIMIT store 1 STORE d") == [1, 6])
        #expect(Self.positions("SORT k STORE") == [1])
        #expect(Self.keys("SORT_RO k BY x") == [KeyReference(position: 1, flags: [.ro, .access])])
    }

    @Test func migrateFindsTheKeysOption() {
        #expect(Self.keys("MIGRATE host 6379 key 0 5000") == [KeyReference(position: 3, flags: [.rw, .access, .delete])])
        #expect(Self.positions("MIGRATE host 6379 \"\" 0 5000 KEYS a b") == [7, 8])
        #expect(Self.keys("MIGRATE host 6379 \"\" 0 5000 KEYS a b").allSatisfy { $0.flags == [.rw, .access, .delete] })
        #expect(Self.positions("MIGRATE host 6379 \"\" 0 5000 COPY REPLACE AUTH pw KEYS a b") == [11, 12])
        #expect(Self.positions("MIGRATE host 6379 \"\" 0 5000 AUTH2 keys pw KEYS a") == [10])
        // A key together with KEYS is MIGRATE's syntax error: no keys.
        #expect(Self.positions("MIGRATE host 6379 key 0 5000 KEYS a b") == [])
    }

    @Test func setAndBitfieldFlagsDependOnTheArguments() {
        #expect(Self.keys("SET k v") == [KeyReference(position: 1, flags: [.ow, .update])])
        #expect(Self.keys("SET k v EX 10 get") == [KeyReference(position: 1, flags: [.rw, .access, .update])])
        #expect(Self.keys("BITFIELD k GET u8 0") == [KeyReference(position: 1, flags: [.ro, .access])])
        #expect(Self.keys("BITFIELD k OVERFLOW WRAP GET u8 0") == [KeyReference(position: 1, flags: [.ro, .access])])
        #expect(Self.keys("BITFIELD k SET u8 0 1") == [KeyReference(position: 1, flags: [.rw, .access, .update])])
        #expect(Self.keys("BITFIELD k GET u8") == [KeyReference(position: 1, flags: [.rw, .access, .update])])
    }

    @Test func georadiusStoreKeywordsAreSearchedFromTheSixthArgument() {
        #expect(Self.positions("GEORADIUS k 0 0 1 m") == [1])
        #expect(Self.keys("GEORADIUS k 0 0 1 m STORE dst").last == KeyReference(position: 7, flags: [.ow, .update]))
        #expect(Self.positions("GEORADIUS k 0 0 1 m STOREDIST dst") == [1, 7])
        #expect(Self.positions("GEORADIUSBYMEMBER k m 1 km STORE dst") == [1, 6])
    }

    @Test func fixedPositionCommandsAndSubcommands() {
        #expect(Self.positions("RENAME a b") == [1, 2])
        #expect(Self.positions("BLPOP a b 0") == [1, 2])
        #expect(Self.positions("DEL a b c") == [1, 2, 3])
        #expect(Self.positions("MEMORY USAGE k") == [2])
        #expect(Self.positions("OBJECT ENCODING k") == [2])
        #expect(Self.positions("XGROUP CREATE k g $") == [2])
    }

    @Test func notKeySpecsAreSkippedUnlessAsked() {
        let spublish = Self.spec("spublish")
        #expect(!spublish.hasKeyArguments)
        let found = Self.withArguments(["SPUBLISH", "ch", "m"]) { args in
            (spublish.keyReferences(in: args), spublish.keyReferencesFromKeySpecs(in: args, options: .includeNotKeys),
             spublish.legacyKeyReferences(in: args))
        }
        // Like Redis, a command whose specs are all not_key has no keys...
        #expect(found.0 == [])
        // ...unless the specs are asked for them, or the legacy range (cluster routing) is used.
        #expect(found.1 == [KeyReference(position: 1, flags: [.notKey])])
        #expect(found.2 == [KeyReference(position: 1, flags: [])])
        #expect(!Self.spec("ping").hasKeyArguments)
        #expect(Self.spec("eval").hasKeyArguments)
        #expect(Self.spec("get").hasKeyArguments)
    }

    @Test func legacyKeyFinderUsesTheRangeOrTheKeysProcedure() {
        func legacy(_ words: [String], _ name: String) -> [Int] {
            Self.withArguments(words) { Self.spec(name).legacyKeyReferences(in: $0).map(\.position) }
        }
        #expect(legacy(["MSET", "a", "1", "b", "2"], "mset") == [1, 3])
        #expect(legacy(["BLPOP", "a", "b", "0"], "blpop") == [1, 2])
        #expect(legacy(["EVAL", "s", "2", "a", "b"], "eval") == [3, 4])
        #expect(legacy(["ZUNIONSTORE", "d", "2", "a", "b"], "zunionstore") == [3, 4, 1])
        #expect(legacy(["PING"], "ping") == [])
    }

    @Test func partialSearchKeepsTheKeysOfCompleteSpecs() {
        let migrate = Self.spec("migrate")
        let words = ["MIGRATE", "h", "1", "", "0", "0", "KEYS", "a", "b"]
        let (strict, partial) = Self.withArguments(words) { args in
            (migrate.keyReferencesFromKeySpecs(in: args), migrate.keyReferencesFromKeySpecs(in: args, options: .returnPartial))
        }
        // The KEYS spec is incomplete: a strict search fails, a partial one keeps every key found.
        #expect(strict == nil)
        #expect(partial?.map(\.position) == [3, 7, 8])
    }

    @Test func numkeysParsingFollowsCAtoi() {
        #expect(Self.withArguments([" 12abc"]) { parseCInteger($0[0]) } == 12)
        #expect(Self.withArguments(["+3"]) { parseCInteger($0[0]) } == 3)
        #expect(Self.withArguments(["-2"]) { parseCInteger($0[0]) } == -2)
        #expect(Self.withArguments(["x"]) { parseCInteger($0[0]) } == 0)
        // strtol saturates, then the cast to int keeps the low 32 bits.
        #expect(Self.withArguments(["99999999999999999999"]) { parseCInteger($0[0]) } == -1)
        #expect(Self.withArguments(["4294967297"]) { parseCInteger($0[0]) } == 1)
    }
}
