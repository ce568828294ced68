// swift-tools-version: 6.1
import PackageDescription

// One set of Swift settings for every Swift target: Swift 6 mode, explicit `any`, internal imports.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// DCMTK libraries named one by one: dcmtk.pc would drag in libsndfile's .pc to resolve.
let dcmtkLibraries = [
    "dcmseg", "dcmpmap", "dcmfg", "dcmiod", "cmr", "dcmsr", "dcmnet", "dcmjpls", "dcmtkcharls", "dcmjpeg", "ijg8", "ijg12", "ijg16",
    "dcmimage", "dcmimgle", "dcmdata", "oflog", "ofstd",
]

let package = Package(
    name: "Lightbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lightbox", targets: ["lightbox"]),
        // The OpenCV engine as a library of its own, loaded (dlopen) only when a model runs:
        // commands that never infer (render, info, scan) never pay OpenCV's start-up.
        .library(name: "LightboxVision", type: .dynamic, targets: ["CVisionShim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.0"),
    ],
    targets: [
        // MARK: C shims
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),
        .target(
            name: "CDicomShim",
            path: "Sources/CDicomShim",
            // OpenJPEG decodes JPEG 2000, which DCMTK's free edition cannot; its headers sit in a
            // versioned folder that no module map names.
            cxxSettings: [.define("HAVE_CONFIG_H"), .unsafeFlags(["-std=c++17", "-fexceptions", "-I/usr/include/openjpeg-2.5"])],
            linkerSettings: dcmtkLibraries.map { .linkedLibrary($0) } + [.linkedLibrary("openjp2"), .linkedLibrary("stdc++")]
        ),

        .target(
            name: "CVisionShim",
            path: "Sources/CVisionShim",
            // libopencv-dnn-dev ships no opencv4.pc: the include folder is named here.
            cxxSettings: [.unsafeFlags(["-std=c++17", "-fexceptions", "-I/usr/include/opencv4"])],
            linkerSettings: [.linkedLibrary("opencv_dnn"), .linkedLibrary("opencv_core"), .linkedLibrary("stdc++")]
        ),

        // Finds and opens libLightboxVision.so; the only thing Inference links of the engine.
        .target(name: "CVisionLoader", path: "Sources/CVisionLoader"),

        // MARK: core
        .target(name: "LightboxCore", swiftSettings: swiftSettings),

        // MARK: adapters
        .target(name: "DicomReading", dependencies: ["LightboxCore", "CDicomShim"], swiftSettings: swiftSettings),
        .target(
            name: "Store",
            dependencies: ["LightboxCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The department's shared ledger and analysis tables in PostgreSQL (postgres-nio): its own
        // module, so NIO's client stays out of the domain, store and screen modules.
        .target(
            name: "DepartmentStore",
            dependencies: ["LightboxCore", "Store", .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // DICOMweb (QIDO-RS, WADO-RS, STOW-RS) through async-http-client and multipart-kit: its own
        // module, so the HTTP client stays out of the domain, store and screen modules.
        .target(
            name: "DicomWeb",
            dependencies: ["LightboxCore", "DicomReading", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "MultipartKit", package: "multipart-kit")],
            swiftSettings: swiftSettings
        ),
        .target(name: "ImageOutput", dependencies: ["LightboxCore", "CPNG"], swiftSettings: swiftSettings),
        .target(name: "Inference", dependencies: ["LightboxCore", "CVisionLoader"], swiftSettings: swiftSettings),
        .target(name: "TerminalUI", dependencies: ["LightboxCore"], swiftSettings: swiftSettings),
        .target(name: "NcursesTerminal", dependencies: ["TerminalUI", "CNcurses", "CZlib"], swiftSettings: swiftSettings),

        // MARK: app
        .target(
            name: "ReviewApp",
            dependencies: ["LightboxCore", "TerminalUI", .product(name: "TOMLKit", package: "TOMLKit"),
                           .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),

        // The services the commands share: printing and failing, finding models, themes and the
        // reader, a study named by a script, the similar-case base.
        .target(
            name: "LightboxServices",
            dependencies: ["LightboxCore", "DicomReading", "Store", "TerminalUI", "ReviewApp", "Inference", "DepartmentStore", "DicomWeb",
                           .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),

        // MARK: executables
        // Argument parsing and wiring.
        .executableTarget(
            name: "lightbox",
            dependencies: [
                "LightboxCore", "DicomReading", "Store", "ImageOutput", "TerminalUI", "NcursesTerminal", "ReviewApp", "Inference",
                "LightboxServices", "DepartmentStore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The figures of every part, each beside a peer where there is one (`make bench`).
        .executableTarget(
            name: "lightbox-benchmark",
            dependencies: [
                "LightboxCore", "DicomReading", "Store", "ImageOutput", "TerminalUI", "NcursesTerminal", "ReviewApp", "Inference",
                "LightboxServices", "DepartmentStore", "DicomWeb", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: tests
        .target(
            name: "TestSupport",
            dependencies: ["LightboxCore", "DicomReading", "TerminalUI", "ReviewApp"],
            path: "Tests/TestSupport",
            exclude: ["monitor_reference.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LightboxCoreTests", dependencies: ["LightboxCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DicomReadingTests",
            dependencies: ["DicomReading", "LightboxCore", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "DicomReading", "LightboxCore", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImageOutputTests",
            dependencies: ["ImageOutput", "LightboxCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI", "LightboxCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "InferenceTests",
            dependencies: ["Inference", "LightboxCore", "DicomReading", "Store", "TestSupport", "LightboxServices", "ImageOutput"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReviewAppTests",
            dependencies: ["ReviewApp", "TerminalUI", "LightboxCore", "Inference", "Store", "TestSupport", "DicomReading", "LightboxServices",
                           .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Snapshots"],
            swiftSettings: swiftSettings
        ),
        // A test helper, not part of the product: writes synthetic decisions for the crash and
        // concurrency tests of the ledger.
        .executableTarget(name: "lightbox-ledger-writer", dependencies: ["LightboxCore", "Store", "DepartmentStore"], path: "Tests/LedgerWriter",
                          swiftSettings: swiftSettings),
        // Against a real PostgreSQL 15 (make test starts one with pg_virtualenv).
        .testTarget(name: "DepartmentTests", dependencies: ["DepartmentStore", "Store", "LightboxCore", "TestSupport", "lightbox-ledger-writer", "lightbox", "ReviewApp", "TerminalUI", "Inference"],
                    swiftSettings: swiftSettings),
        // Against a real Orthanc (DICOMweb and DIMSE) that the tests start on loopback.
        .testTarget(name: "PacsTests", dependencies: ["DicomWeb", "DicomReading", "LightboxServices", "LightboxCore", "TestSupport", "ReviewApp",
                                                      "Store", "TerminalUI", "lightbox"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["lightbox", "lightbox-ledger-writer", "TestSupport", "DicomReading", "NcursesTerminal",
                                                     "TerminalUI", "LightboxCore"],
                    swiftSettings: swiftSettings),
    ],
    cxxLanguageStandard: .cxx17
)
