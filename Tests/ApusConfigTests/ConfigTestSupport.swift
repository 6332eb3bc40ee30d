import Foundation

/// One directory per test process, removed when the process exits.
private let testRoot: String = {
    let path = NSTemporaryDirectory() + "apus-config-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: testRoot) }
    return (path as NSString).resolvingSymlinksInPath
}()

/// A fresh directory for one test.
func makeTemporaryDirectory() -> String {
    let path = testRoot + "/" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func writeFile(_ path: String, _ contents: String) {
    try! contents.write(toFile: path, atomically: false, encoding: .utf8)
}

func readFile(_ path: String) -> String {
    try! String(contentsOfFile: path, encoding: .utf8)
}

enum FileManagerShim {
    static func createDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
}

extension FileManagerShim {
    static func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: path)
    }
}
