import Foundation
import Testing

@testable import ApusServer

#if canImport(Glibc)
import Glibc
#endif

/// The cron keeps evicting while a limit is exceeded and no write arrives (Redis's eviction
/// time event): a quota lowered below a database's usage empties it with only reads coming in.
@Suite("Eviction from the cron")
struct EvictionCronTests {
    @Test func loweredQuotaIsEnforcedWithoutWrites() throws {
        try withServer(["--maxmemory-policy", "allkeys-random"]) { port in
            let client = try RawClient(port: port)
            var fill = ""
            for i in 0..<2000 { fill += "*3\r\n$3\r\nSET\r\n$\(String(i).utf8.count + 2)\r\nk:\(i)\r\n$5\r\nvalue\r\n" }
            client.write(fill)
            _ = client.read(atLeast: 2000 * 5)
            #expect(client.reply("DBSIZE") == ":2000\r\n")
            #expect(client.reply("CONFIG", "SET", "db-maxmemory", "0 1") == "+OK\r\n")
            // DBSIZE is not denyoom: only the cron evicts here.
            var size = client.reply("DBSIZE")
            for _ in 0..<500 where size != ":0\r\n" {
                usleep(10_000)
                size = client.reply("DBSIZE")
            }
            #expect(size == ":0\r\n")
            #expect(client.reply("INFO", "stats").contains("evicted_keys:2000\r\n"))
        }
    }
}
