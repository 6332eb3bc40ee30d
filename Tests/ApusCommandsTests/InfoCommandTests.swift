import ApusCommands
import Testing

/// The section headers ("# Name") of an INFO reply, in order.
private func sectionTitles(_ reply: String) -> [String] {
    reply.split(separator: "\r\n").filter { $0.hasPrefix("# ") }.map { String($0.dropFirst(2)) }
}

@Suite struct InfoCommandTests {
    /// Redis's order of every section `INFO all` prints (no module sections).
    static let allSections = [
        "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
        "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace",
    ]
    static let defaultSections = [
        "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
        "Errorstats", "Cluster", "Keyspace",
    ]

    @Test func infoWithoutArgumentsPrintsTheDefaultSectionsWithoutCommandStats() {
        let h = Harness()
        h.send("set", "k", "v")
        for args in [["info"], ["info", "default"], ["info", "cpu", "default"]] {
            let reply = h.send(args)
            #expect(sectionTitles(reply) == Self.defaultSections, "\(args)")
            #expect(!reply.contains("rejected_calls"), "\(args)")
        }
    }

    /// unit/info-command: `INFO all` and `INFO everything` include Commandstats and
    /// Latencystats (Redis's all_sections), in Redis's order and each once.
    @Test func infoAllAndEverythingIncludeCommandStatsAndLatencyStats() {
        let h = Harness()
        h.send("set", "k", "v")
        for args in [["info", "all"], ["info", "everything"], ["info", "cpu", "all"], ["info", "ALL"]] {
            let reply = h.send(args)
            #expect(sectionTitles(reply) == Self.allSections, "\(args)")
            #expect(reply.contains("cmdstat_set:calls=1,"), "\(args)")
            #expect(reply.contains("rejected_calls"), "\(args)")
            #expect(reply.components(separatedBy: "used_cpu_user_children").count == 2, "\(args)")
        }
    }

    @Test func infoNamedSectionsAreCaseInsensitiveAndPrintedInRedisOrder() {
        let h = Harness()
        #expect(sectionTitles(h.send("info", "commandSTATS")) == ["Commandstats"])
        #expect(sectionTitles(h.send("info", "latencystats")) == ["Latencystats"])
        #expect(sectionTitles(h.send("info", "keyspace", "cpu", "CPU")) == ["CPU", "Keyspace"])
        #expect(sectionTitles(h.send("info", "sentinel")) == [])
    }
}
