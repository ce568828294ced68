import DicomReading
import Foundation
import LightboxServices
import Store
import LightboxCore

/// `lightbox-benchmark similar`: top-5 exact cosine search latency at 1k, 10k and 100k cases
/// (128-dimensional unit vectors, one query at a time), beside faiss-cpu's IndexFlatIP on the same
/// vectors when a Python with faiss is given; also how often both return the same top 5.
struct SimilarBenchmark {
    let folder: String
    let python: String?
    let dimension = 128
    let queries = 200

    func run() throws {
        var lines = ["Lightbox similar-case search benchmark — exact cosine top-5, \(dimension) dimensions, \(queries) queries one at a time, 1 thread"]
        var random = SeededRandom(seed: 2026)
        func vector() -> [Float] { VectorIndex.normalized((0..<dimension).map { _ in Float(random.uniform() * 2 - 1) }) }
        let queryVectors = (0..<queries).map { _ in vector() }
        var all: [[Float]] = []
        for size in [1_000, 10_000, 100_000] {
            while all.count < size { all.append(vector()) }
            var index = VectorIndex(dimension: dimension)
            for v in all { index.add(v) }
            var times: [Double] = []
            var ours: [[Int]] = []
            for query in queryVectors {
                let start = DispatchTime.now()
                let found = index.search(query, k: 5)
                times.append(Benchmark.milliseconds(since: start))
                ours.append(found.map(\.row))
            }
            var line = String(format: "%7d cases: lightbox median %.3f ms, p95 %.3f ms", size, Benchmark.percentile(times, 0.5), Benchmark.percentile(times, 0.95))
            if let python {
                let peer = try runPeer(python: python, vectors: all, queries: queryVectors)
                let agree = zip(ours, peer.rows).filter { Set($0.0) == Set($0.1) }.count
                line += String(format: " · faiss IndexFlatIP median %.3f ms, p95 %.3f ms · lightbox/faiss %.1fx · same top-5 in %d/%d queries",
                               peer.median, peer.p95, Benchmark.percentile(times, 0.5) / peer.median, agree, queries)
            }
            lines.append(line)
        }
        if python == nil { lines.append("faiss peer: not run (pass --python PATH to a Python with numpy and faiss-cpu; make bench does)") }
        print(lines.joined(separator: "\n"))
    }

    private func runPeer(python: String, vectors: [[Float]], queries: [[Float]]) throws -> (median: Double, p95: Double, rows: [[Int]]) {
        guard let script = CLI.bundledCandidates("tools/similar_peer.py").first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw CLIFailure("tools/similar_peer.py not found beside the program")
        }
        let vectorsPath = folder + "/vectors.f32", queriesPath = folder + "/queries.f32"
        try vectors.flatMap { $0 }.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: vectorsPath))
        try queries.flatMap { $0 }.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: queriesPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, vectorsPath, queriesPath, String(dimension)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIFailure("faiss peer failed (exit \(process.terminationStatus))") }
        var median = 0.0, p95 = 0.0, rows: [[Int]] = []
        for line in output.split(separator: "\n") {
            if line.hasPrefix("median_ms=") { median = Double(line.dropFirst(10)) ?? 0 }
            if line.hasPrefix("p95_ms=") { p95 = Double(line.dropFirst(7)) ?? 0 }
            if line.hasPrefix("top5=") { rows.append(line.dropFirst(5).split(separator: ",").compactMap { Int($0) }) }
        }
        return (median, p95, rows)
    }
}

/// `lightbox-benchmark decisions`: decisions committed per second into a fresh ledger (each one
/// its own synchronous=FULL transaction with its audit row).
struct DecisionBenchmark {
    let folder: String

    func run() throws {
        let path = folder + "/bench-decisions.sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let ledger = try SQLiteDecisionLedger(path: path)
        let count = 1_000
        let start = DispatchTime.now()
        for index in 0..<count {
            _ = try ledger.record(Decision(id: "bench-\(index)", studyInstanceUID: "2.25.\(index)", patientID: "P\(index % 50)", studyDate: "20260101",
                                           action: .accept, reader: "bench", secondsSpent: 10, model: "bench", modelVersion: "1",
                                           outputHash: String(repeating: "0", count: 64), probability: 0.7, tier: .medium))
        }
        let seconds = Benchmark.milliseconds(since: start) / 1000
        let verifyStart = DispatchTime.now()
        let report = try ledger.verify(expectedHead: nil)
        print(String(format: "Lightbox decision ledger benchmark — %d decisions, one transaction each (synchronous=FULL, WAL): %.0f decisions/s (%.2f ms each); audit verify of %d rows: %.0f ms, %@",
                     count, Double(count) / seconds, seconds * 1000 / Double(count), report.rows, Benchmark.milliseconds(since: verifyStart),
                     report.isIntact ? "intact" : "NOT intact"))
    }
}
