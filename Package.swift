// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "OptimaGym",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "optima-gym", targets: ["GymCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The embedded SQLite store (issue 13): migrations, WAL readers beside one writer, typed rows.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // `optima-gym serve` (issue 17): the /api/ml endpoints and the dashboard over the store.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // `export onnx` (issue 17): ONNX's ModelProto, from onnx.proto compiled once and committed.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"])]
        ),
        .target(name: "GymRandom", dependencies: ["CGSL"]),
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .target(name: "GymLinalg", dependencies: ["CKernels"]),
        .target(name: "GymCore", dependencies: ["GymRandom"]),
        .target(
            name: "GymSim", dependencies: ["GymCore", "GymRandom"],
            // The decision loop touches many stored properties of one final class; dynamic
            // exclusivity checks cost ~11% of `bench sim` (perf, 2026-11-26). Static checks stay on.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .target(name: "GymAgents", dependencies: ["GymCore", "GymLinalg", "GymRandom"]),
        .target(name: "GymData", dependencies: ["GymCore"]),
        .target(name: "GymEval", dependencies: ["GymData", "GymCore", "GymRandom", "GymLinalg", "GymAgents"]),
        .target(name: "GymGate", dependencies: ["GymEval"]),
        .target(name: "GymSynth", dependencies: ["GymData", "GymRandom", "GymLinalg", "GymEval"]),
        .target(name: "GymReports", dependencies: ["GymEval", "GymGate"]),
        .target(name: "GymStore", dependencies: ["GymCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        .target(name: "GymScenario", dependencies: [
            "GymData", "GymRandom", "GymSim", "GymAgents", "GymEval", "GymGate", "GymSynth",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "GymONNX", dependencies: ["GymAgents", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "GymRunner", dependencies: [
            "GymONNX", "GymData", "GymScenario", "GymSim", "GymAgents", "GymEval", "GymGate", "GymReports", "GymRandom", "GymCore", "GymSynth", "GymStore",
        ]),
        .target(name: "GymServer", dependencies: ["GymCore", "GymData", "GymStore", "GymReports", "GymRunner", "GymSynth", .product(name: "Hummingbird", package: "hummingbird")]),
        .executableTarget(name: "GymCLI", dependencies: [
            "GymCore", "GymData", "GymRunner", "GymScenario", "GymSim", "GymAgents", "GymEval", "GymGate", "GymReports", "GymSynth", "GymStore", "GymServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "GymTestSupport", dependencies: ["GymCore", "GymSim", "GymRandom"]),
        .testTarget(name: "GymRandomTests", dependencies: ["GymRandom", "GymTestSupport"]),
        .testTarget(name: "GymSimTests", dependencies: ["GymSim", "GymCore", "GymAgents", "GymTestSupport"]),
        .testTarget(name: "GymAgentsTests", dependencies: ["GymAgents", "GymLinalg", "GymSim", "GymTestSupport"]),
        .testTarget(name: "GymEvalTests", dependencies: ["GymData", "GymEval", "GymGate", "GymReports", "GymTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "GymSynthTests", dependencies: ["GymData", "GymSynth", "GymEval", "GymTestSupport"]),
        .testTarget(name: "GymScenarioTests", dependencies: ["GymRunner", "GymScenario", "GymSynth", "GymSim", "GymTestSupport"]),
        .testTarget(name: "GymCLITests", dependencies: ["GymTestSupport"]),
        .testTarget(name: "GymServerTests", dependencies: ["GymServer", "GymStore", "GymRunner", "GymTestSupport",
                                                          .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "GymStoreTests", dependencies: ["GymStore", "GymCore", "GymTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
