// lightbox-ledger-writer: a test helper, not part of the product. Records synthetic decisions one
// by one into a ledger and prints "saved ID" after each commit returns, for the crash and
// concurrency tests (LedgerProcessTests). Usage:
//   lightbox-ledger-writer --ledger FILE|postgresql://… [--count N] [--prefix P] [--start S] [--reader R] [--function F] [--unsafe-report-first]
// With a postgresql:// ledger the password comes from PGPASSWORD; --reader names the decisions'
// reader (the role connecting); --function is the server function to append through (a control
// run uses one without the row lock).
// --unsafe-report-first (control runs only) prints "saved" before the commit, as a broken app would.
import DepartmentStore
import Foundation
import LightboxCore
import Store

var options: [String: String] = [:]
var unsafeReportFirst = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--unsafe-report-first" { unsafeReportFirst = true; continue }
    guard argument.hasPrefix("--"), let value = arguments.popFirst() else {
        FileHandle.standardError.write(Data("usage: lightbox-ledger-writer --ledger FILE [--count N] [--prefix P] [--start S]\n".utf8))
        exit(2)
    }
    options[String(argument.dropFirst(2))] = value
}
guard let ledger = options["ledger"] else {
    FileHandle.standardError.write(Data("--ledger FILE is required\n".utf8))
    exit(2)
}
let count = Int(options["count"] ?? "") ?? 1000
let prefix = options["prefix"] ?? "w"
let start = Int(options["start"] ?? "") ?? 0

do {
    let store: any DecisionStore
    if ledger.hasPrefix("postgresql://") {
        let location = try PostgresLocation(ledger, defaultUser: ProcessInfo.processInfo.environment["USER"] ?? "")
        store = try PostgresDecisionLedger(location, password: ProcessInfo.processInfo.environment["PGPASSWORD"],
                                           appendFunction: options["function"] ?? "append")
    } else {
        store = try SQLiteDecisionLedger(path: ledger)
    }
    let reader = options["reader"] ?? prefix
    let begin = Date()
    for index in start..<count {
        let decision = Decision(id: "\(prefix)-\(index)", studyInstanceUID: "2.25.\(index % 97)", patientID: "P\(index % 13)", studyDate: "20260101",
                                action: index % 3 == 0 ? .accept : (index % 3 == 1 ? .override : .deferred),
                                reason: index % 3 == 1 ? .falsePositive : nil, reader: reader, secondsSpent: Double(index % 60),
                                model: "bench", modelVersion: "1", outputHash: String(repeating: "a", count: 64), probability: 0.5, tier: .review,
                                // One time per id: a writer started again after a kill retries the same decision, as the reviewer does.
                                decidedAt: Timestamp(Date(timeIntervalSince1970: 1_800_000_000 + Double(index))))
        if unsafeReportFirst {
            FileHandle.standardOutput.write(Data("saved \(decision.id)\n".utf8))
            usleep(3_000)
            _ = try store.record(decision)
            continue
        }
        _ = try store.record(decision)
        FileHandle.standardOutput.write(Data("saved \(decision.id)\n".utf8))
    }
    let seconds = Date().timeIntervalSince(begin)
    FileHandle.standardError.write(Data(String(format: "%d decisions in %.2f s: %.0f decisions/s\n", count - start, seconds,
                                               Double(count - start) / seconds).utf8))
} catch {
    FileHandle.standardError.write(Data("\(ledger): \(error)\n".utf8))
    exit(1)
}
