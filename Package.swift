// swift-tools-version: 6.1
import PackageDescription

// One set of settings for every target (STYLE.md): Swift 6 mode, explicit existentials.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

// Hot-path targets additionally drop dynamic exclusivity checks in release builds
// (measured in docs/PERFORMANCE.md; the prototype lost 9-30% of CPU to them).
let hotPathSettings: [SwiftSetting] = swiftSettings + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Apus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "apus-server", targets: ["apus-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        // glibc calls Swift's Glibc module does not import (heap statistics for INFO memory).
        .target(name: "CSystemShims"),
        // Debian's Lua 5.1 with cjson and bit (liblua5.1-0-dev, lua-cjson-dev, lua-bitop-dev).
        .systemLibrary(name: "CLua", pkgConfig: "lua5.1", providers: [.apt(["liblua5.1-0-dev", "lua-cjson-dev", "lua-bitop-dev"])]),
        // The Lua side of scripting in C (struct, cmsgpack, sandbox, RESP conversions): Lua
        // errors longjmp, so every Lua call that may raise stays in C.
        .target(
            name: "CLuaLibs",
            dependencies: ["CLua"],
            linkerSettings: [.linkedLibrary("lua5.1"), .linkedLibrary("lua5.1-cjson"), .linkedLibrary("lua5.1-bitop")]
        ),
        // Layer 1: bytes and RESP.
        .target(
            name: "ApusRESP",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: hotPathSettings
        ),
        // Layer 2: the keyspace engine.
        .target(
            name: "ApusStore",
            dependencies: [
                "ApusRESP", "CSystemShims",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: hotPathSettings
        ),
        // Configuration registry (redis.conf names, units, validation).
        .target(
            name: "ApusConfig",
            dependencies: ["ApusRESP"],
            swiftSettings: swiftSettings
        ),
        // Lua scripting engine: the interpreter, the script cache's functions, redis.* callbacks.
        .target(
            name: "ApusLua",
            dependencies: ["ApusRESP", "CLua", "CLuaLibs"],
            swiftSettings: swiftSettings
        ),
        // Layer 3: command table, dispatcher, command families.
        .target(
            name: "ApusCommands",
            dependencies: [
                "ApusRESP", "ApusStore", "ApusConfig", "CSystemShims", "ApusLua",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: hotPathSettings
        ),
        // Layer 4: networking, connections, lifecycle.
        .target(
            name: "ApusServer",
            dependencies: [
                "ApusRESP", "ApusStore", "ApusConfig", "ApusCommands",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSettings
        ),
        // Layer 5: the executable.
        .executableTarget(
            name: "apus-server",
            dependencies: [
                "ApusServer", "ApusConfig",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Generates Sources/ApusCommands/Generated/ from ../shared/redis-commands (run by hand).
        .executableTarget(
            name: "apus-commandgen",
            dependencies: [],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ApusRESPTests", dependencies: ["ApusRESP"], swiftSettings: swiftSettings),
        .testTarget(name: "ApusStoreTests", dependencies: ["ApusStore"], swiftSettings: swiftSettings),
        .testTarget(name: "ApusConfigTests", dependencies: ["ApusConfig"], swiftSettings: swiftSettings),
        .testTarget(name: "ApusLuaTests", dependencies: ["ApusLua"], swiftSettings: swiftSettings),
        .testTarget(name: "ApusCommandsTests", dependencies: ["ApusCommands"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ApusServerTests",
            dependencies: [
                "ApusServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
