import ArgumentParser
import DicomReading
import Foundation
import LightboxServices
import Inference
import LightboxCore
import ReviewApp
import Store

/// `lightbox decide STUDY …`: record a decision on a study's AI result from a script.
struct Decide: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a decision on a study's AI result (accept, override with a reason, or defer) in the ledger.")

    @Argument(help: "The Study Instance UID.")
    var study: String

    @Flag(help: "Accept the AI result.")
    var accept = false

    @Option(help: "Override the AI result, with a reason: \(OverrideReason.allCases.map(\.rawValue).joined(separator: ", ")) (hyphens work too: false-positive).")
    var override: String?

    @Option(help: "A comment (with --override).")
    var comment: String?

    @Flag(name: .customLong("defer"), help: "Defer the study to another reader.")
    var deferStudy = false

    @Option(help: "Decide on one finding (its number in the AI result, from 1) instead of the whole study.")
    var finding: Int?

    @Option(help: "The folder or PACS (DICOMweb URL, dicom://AET@host:port, or a [sources.NAME]) the study is in (default: the index of any folder scanned before, else config.toml's source, else the bundled samples).")
    var source: String?

    @Option(help: "A model folder (repeatable; default: config.toml's models, else the bundled models/default).")
    var model: [String] = []

    @Option(help: "The decision id (default: a new one). Recording the same id again writes nothing: safe to retry.")
    var id: String?

    func validate() throws {
        let chosen = [accept, override != nil, deferStudy].filter { $0 }.count
        if chosen != 1 { throw ValidationError("choose exactly one of --accept, --override REASON, --defer") }
        if let override, OverrideReason(code: override) == nil {
            throw ValidationError("unknown reason '\(override)'; one of: \(OverrideReason.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if comment != nil && override == nil { throw ValidationError("--comment goes with --override") }
        if let finding, finding < 1 { throw ValidationError("--finding counts from 1") }
    }

    func run() throws {
        let named = try ScriptedStudy.load(uid: study, folder: source, models: model, purpose: "cannot decide without an AI result")
        let (paths, target) = (named.paths, named.study)
        let result = try named.analyser.analyse(target)
        if let finding, finding > result.findings.count {
            throw CLIFailure("\(study): the AI result has \(result.findings.count) finding(s); --finding \(finding) does not exist")
        }
        let action: DecisionAction = accept ? .accept : (deferStudy ? .deferred : .override)
        var decision = Decision.on(target, result: result, outputHash: result.outputHash,
                                   finding: finding.map { $0 - 1 }, action: action, reason: override.flatMap { OverrideReason(code: $0) },
                                   comment: comment, reader: LedgerLocator.reader(named.configuration), secondsSpent: 0)
        if let id { decision.id = id }
        decision = decision.stamped(id: { UUID().uuidString.lowercased() }, at: Date())
        let (ledger, name) = try LedgerLocator.open(paths, configuration: named.configuration)
        let receipt: LedgerReceipt
        do { receipt = try ledger.record(decision) } catch {
            let text = "\(error)"
            throw CLIFailure("NOT saved: " + (text.hasPrefix(name) ? text : "\(name): \(text)"))
        }
        try? CaseBase(analyser: named.analyser, source: named.source, paths: paths, configuration: named.configuration).remember(target, decision: decision)
        CLI.write("\(receipt.inserted ? "Saved" : "Already saved") decision \(decision.id): \(decision.summary)"
                  + " — audit row \(receipt.sequence), hash \(receipt.hash.prefix(16))…\n")
    }
}

/// `lightbox audit verify`: recompute the decision ledger's chain.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the decision ledger.", subcommands: [AuditVerify.self, AuditCheckpointCommand.self])

    /// Where checkpoints and their signing key live by default (beside the data, never in the ledger).
    static func checkpointsFile(_ paths: AppPaths) -> String { paths.dataDirectory + "/checkpoints.jsonl" }
    static func keyFile(_ paths: AppPaths) -> String { paths.dataDirectory + "/checkpoint.key" }
}

/// `lightbox audit checkpoint`: sign the chain's head with this installation's Ed25519 key.
struct AuditCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the chain head (sequence, hash, time) with an Ed25519 key kept outside the database; append it to a file or print it.")

    @Option(help: "The checkpoints file to append to (default: checkpoints.jsonl in the data folder).")
    var output: String?

    @Option(help: "The signing key (default: checkpoint.key in the data folder, created once, mode 0600).")
    var key: String?

    @Flag(help: "Print the checkpoint instead of appending it (to keep it somewhere else: a ticket, another machine).")
    var print = false

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let (ledger, name) = try LedgerLocator.open(paths, configuration: CLI.configuration(paths))
        guard let head = try ledger.head() else { throw CLIFailure("\(name): the chain is empty: nothing to sign yet") }
        let signing: CheckpointKey
        do { signing = try CheckpointKey.loadOrCreate(path: key ?? Audit.keyFile(paths)) } catch { throw CLIFailure("\(error)") }
        let checkpoint = try AuditCheckpoint.sign(head, ledger: name, key: signing)
        if print {
            CLI.write(CanonicalJSON.string(checkpoint) + "\n")
            return
        }
        let file = output ?? Audit.checkpointsFile(paths)
        do { try checkpoint.append(to: file) } catch { throw CLIFailure("\(error)") }
        CLI.write("Signed row \(head.sequence), head \(head.hash.prefix(16))…, into \(file) (key \(signing.publicKey.prefix(16))…)\n")
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the audit chain; report the first edited, deleted or reordered row (exit 1), or a truncated tail given an export's head.")

    @Option(help: "The chain head written in an export: also checks that no rows after it were removed.")
    var head: String?

    @Option(help: "The ledger file (default: decisions.sqlite in the data folder, or config.toml's department ledger).")
    var ledger: String?

    @Option(help: "Signed checkpoints to check the chain against (default: checkpoints.jsonl in the data folder, when it exists).")
    var checkpoints: String?

    func run() throws {
        let paths = AppPaths()
        var report: LedgerVerification
        let configuration = CLI.configuration(paths)
        let store: any DecisionStore, name: String
        if ledger == nil, configuration.ledger != nil {
            // The department's ledger: the whole chain needs an auditor's (or the owner's) view.
            (store, name) = try LedgerLocator.open(paths, configuration: configuration)
        } else {
            let path = ledger ?? paths.ledgerDatabase
            guard FileManager.default.fileExists(atPath: path) else { throw CLIFailure("\(path): no decision ledger yet") }
            do { store = try SQLiteDecisionLedger(path: path) } catch { throw CLIFailure("\(path): \(error)") }
            name = path
        }
        do { report = try store.verify(expectedHead: head) } catch { throw CLIFailure("\(name): \(error)") }
        // The signed checkpoints: a chain rewritten and re-hashed by someone who bypassed the triggers no longer matches them.
        let checkpointFile = checkpoints ?? Audit.checkpointsFile(paths)
        var checked = 0
        if checkpoints != nil || FileManager.default.fileExists(atPath: checkpointFile) {
            let signed: [AuditCheckpoint]
            do { signed = try AuditCheckpoint.read(checkpointFile).filter { $0.ledger == name } } catch { throw CLIFailure("\(error)") }
            let expectedKey = FileManager.default.fileExists(atPath: Audit.keyFile(paths)) ? try? CheckpointKey.loadOrCreate(path: Audit.keyFile(paths)).publicKey : nil
            let problems = try AuditCheckpoint.problems(signed, expectedKey: expectedKey) { try store.auditHash(at: $0) }
            report.problems += problems
            checked = signed.count
        }
        if checked > 0, report.isIntact { CLI.write("\(checked) signed checkpoint(s) match.\n") }
        if report.isIntact {
            CLI.write("OK: \(report.rows) audit rows, chain intact; head \(report.head ?? "none (empty)")\n")
            return
        }
        CLI.write("TAMPERED: \(report.rows) audit rows; first bad row \(report.firstBadSequence.map(String.init) ?? "?")\n"
                  + report.problems.map { "  - \($0)" }.joined(separator: "\n") + "\n")
        throw ExitCode(1)
    }
}
