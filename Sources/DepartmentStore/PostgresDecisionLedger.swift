import Foundation
public import LightboxCore
import PostgresNIO
public import Store

/// A failure talking to the department's server: names the server (never the password) and the reason.
public struct DepartmentError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// The server's SQLSTATE, when it sent one.
    public let sqlState: String?

    init(_ location: PostgresLocation, _ error: any Error) {
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                sqlState = info[.sqlState]
                description = "\(location): \(message)" + (info[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
                return
            }
            sqlState = nil
            switch error.code {
            case .connectionError, .serverClosedConnection, .uncleanShutdown:
                description = "\(location): the server cannot be reached or closed the connection (\(error.underlying.map { "\($0)" } ?? "\(error.code)"))"
            case .sslUnsupported: description = "\(location): the server does not offer TLS"
            case .authMechanismRequiresPassword: description = "\(location): the server asks for a password: set PGPASSWORD, ~/.pgpass or password_file"
            default: description = "\(location): \(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
            }
            return
        }
        sqlState = nil
        description = "\(location): \(error)"
    }

    init(_ text: String) {
        description = text
        sqlState = nil
    }
}

/// One connection to the department's server, used synchronously (the reviewer's ledger lane and
/// the commands are threads of their own, never an event loop).
final class PostgresSession: @unchecked Sendable {
    let location: PostgresLocation
    private let group: MultiThreadedEventLoopGroup
    private var connection: PostgresConnection
    private let configuration: PostgresConnection.Configuration
    private let lock = NSLock()
    private let logger: Logger = {
        var logger = Logger(label: "lightbox.department")
        logger.logLevel = .critical
        return logger
    }()

    init(_ location: PostgresLocation, password: String?, timeoutSeconds: Int? = nil) throws {
        self.location = location
        timeout = .seconds(Int64(timeoutSeconds ?? Self.defaultTimeoutSeconds))
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch location.tls {
            case .disable: tls = .disable
            case .require:
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateVerification = .none
                tls = .require(try NIOSSLContext(configuration: configuration))
            case .verifyFull: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                             password: password, database: location.database, tls: tls)
            connection = try Self.connect(on: group.next(), configuration: configuration, logger: logger, timeout: timeout, location: location)
        } catch let error as DepartmentError {
            try? group.syncShutdownGracefully()
            throw error
        } catch {
            try? group.syncShutdownGracefully()
            throw DepartmentError(location, error)
        }
    }

    deinit {
        _ = try? connection.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// How long a connection or a query may take before it is given up (a server that died
    /// without closing the socket, a network that stopped forwarding, something on the port that
    /// is not PostgreSQL and never answers): the caller hears "NOT saved".
    static let defaultTimeoutSeconds = ProcessInfo.processInfo.environment["LIGHTBOX_DATABASE_TIMEOUT"].flatMap(Int.init) ?? 15
    let timeout: TimeAmount

    static func connect(on loop: any EventLoop, configuration: PostgresConnection.Configuration, logger: Logger, timeout: TimeAmount,
                        location: PostgresLocation) throws -> PostgresConnection {
        let promise = loop.makePromise(of: PostgresConnection.self)
        let connecting = PostgresConnection.connect(on: loop, configuration: configuration, id: 1, logger: logger)
        connecting.cascade(to: promise)
        let deadline = loop.scheduleTask(in: timeout) { promise.fail(TimedOut()) }
        do {
            let connection = try promise.futureResult.wait()
            deadline.cancel()
            return connection
        } catch is TimedOut {
            // A connection that completes after the deadline (the link came back) is closed, not dropped.
            connecting.whenSuccess { late in let _: EventLoopFuture<Void> = late.close() }
            throw DepartmentError("\(location): no answer within \(timeout.nanoseconds / 1_000_000_000) s (the server or the network is down, or it is not PostgreSQL)")
        } catch {
            deadline.cancel()
            throw DepartmentError(location, error)
        }
    }

    /// Runs `query` and returns its rows.
    @discardableResult
    func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        lock.lock()
        defer { lock.unlock() }
        if broken {
            // The link came back? Connect again (a retry keeps its decision id, so nothing is written twice).
            connection = try Self.connect(on: group.next(), configuration: configuration, logger: logger, timeout: timeout, location: location)
            broken = false
        }
        let loop = connection.eventLoop
        let promise = loop.makePromise(of: PostgresQueryResult.self)
        connection.query(query, logger: logger).cascade(to: promise)
        let deadline = loop.scheduleTask(in: timeout) { promise.fail(TimedOut()) }
        do {
            let result = try promise.futureResult.wait()
            deadline.cancel()
            return Array(result.rows)
        } catch is TimedOut {
            broken = true
            let _: EventLoopFuture<Void> = connection.close()
            throw DepartmentError("\(location): no answer within \(timeout.nanoseconds / 1_000_000_000) s (the server or the network is down)")
        } catch {
            deadline.cancel()
            if let error = error as? PSQLError, [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(error.code) {
                broken = true
            }
            throw DepartmentError(location, error)
        }
    }

    private var broken = false
    struct TimedOut: Error {}

    /// Runs SQL text with no parameters (DDL, scripts), statement by statement (the extended
    /// protocol postgres-nio speaks takes one at a time).
    func execute(_ sql: String) throws {
        for statement in Self.statements(sql) { try rows(PostgresQuery(unsafeSQL: statement)) }
    }

    /// `sql` split at the semicolons outside quotes, dollar-quoted bodies and comments.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = [], current = ""
        var quote = false, dollar = false, comment = false
        var previous: Character = " "
        for character in sql {
            if comment {
                if character == "\n" { comment = false }
                previous = character
                continue
            }
            if !quote && !dollar && previous == "-" && character == "-" {
                current.removeLast()
                comment = true
                previous = " "
                continue
            }
            current.append(character)
            if character == "'" && !dollar { quote.toggle() }
            if character == "$" && previous == "$" && !quote { dollar.toggle(); previous = " "; continue }
            if character == ";" && !quote && !dollar {
                let text = current.dropLast().trimmingCharacters(in: .whitespacesAndNewlines)
                if !text.isEmpty { statements.append(text) }
                current = ""
            }
            previous = character
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }
}

/// The department's decision ledger (the `DecisionStore` port over PostgreSQL): every write goes
/// through `lightbox.append` on the server, which chains it and stamps the reader.
public final class PostgresDecisionLedger: DecisionStore, @unchecked Sendable {
    let session: PostgresSession
    /// The server function appends go through: `append`; tests name another for a control run
    /// without the row lock (to show the concurrency test can fail).
    let appendFunction: String
    public var location: PostgresLocation { session.location }

    /// Connects and checks the schema version (`department init` creates it).
    /// `timeoutSeconds`: how long a connection or query may take (default LIGHTBOX_DATABASE_TIMEOUT, else 15).
    public init(_ location: PostgresLocation, password: String?, appendFunction: String = "append", timeoutSeconds: Int? = nil) throws {
        guard appendFunction.allSatisfy({ $0.isLetter || $0 == "_" }) else { throw DepartmentError("\(appendFunction): not a function name") }
        session = try PostgresSession(location, password: password, timeoutSeconds: timeoutSeconds)
        self.appendFunction = appendFunction
        try Self.checkVersion(session)
    }

    static func checkVersion(_ session: PostgresSession) throws {
        let found: Int?
        do {
            found = try session.rows("SELECT max(version) FROM lightbox.schema_version").first.flatMap { try $0.decode(Int?.self) }
        } catch let error as DepartmentError where error.sqlState == "3F000" || error.sqlState == "42P01" {
            throw DepartmentError("\(session.location): no Lightbox ledger here (run `lightbox department init` as the database owner)")
        } catch let error as DepartmentError where error.sqlState == "42501" {
            throw DepartmentError("\(session.location): \(session.location.user) may not read the ledger: add the reader (`lightbox department add-reader \(session.location.user)`)")
        }
        guard let found else { throw DepartmentError("\(session.location): no Lightbox ledger here (run `lightbox department init` as the database owner)") }
        guard found == DepartmentSchema.version else {
            throw DepartmentError("\(session.location): the ledger's schema is version \(found); this Lightbox reads version \(DepartmentSchema.version)"
                                  + (found > DepartmentSchema.version ? " (update Lightbox)" : " (run `lightbox department init` to migrate)"))
        }
    }

    public func record(_ decision: Decision) throws -> LedgerReceipt {
        try append(event: "decision", subject: decision.id, payload: decision.canonicalJSON, decisionID: decision.id, study: decision.studyInstanceUID)
    }

    public func recordEvent(_ event: String, subject: String, details: String) throws -> LedgerReceipt {
        try append(event: event, subject: subject, payload: details, decisionID: nil, study: nil)
    }

    func append(event: String, subject: String, payload: String, decisionID: String?, study: String?) throws -> LedgerReceipt {
        // The function name is checked at init (letters and _ only).
        let rows = try session.rows("SELECT sequence, hash, inserted FROM lightbox.\(unescaped: appendFunction)(\(event), \(subject), \(payload), \(decisionID), \(study))")
        guard let row = rows.first else { throw DepartmentError("\(location): the server returned no receipt") }
        let (sequence, hash, inserted) = try row.decode((Int, String, Bool).self)
        return LedgerReceipt(sequence: sequence, hash: hash, inserted: inserted)
    }

    /// A decision row's payload (the canonical JSON its audit row hashed).
    static func decision(_ payload: String) throws -> Decision {
        try JSONDecoder().decode(Decision.self, from: Data(payload.utf8))
    }

    public func decisions() throws -> [Decision] {
        try session.rows("SELECT payload FROM lightbox.decisions ORDER BY audit_sequence").map {
            try Self.decision(try $0.decode(String.self))
        }
    }

    public func events(_ event: String) throws -> [AuditEvent] {
        try session.rows("SELECT sequence, event, subject, payload FROM lightbox.audit WHERE event = \(event) ORDER BY sequence").map {
            let (sequence, name, subject, payload) = try $0.decode((Int, String, String, String).self)
            return AuditEvent(sequence: sequence, event: name, subject: subject, payload: payload)
        }
    }

    public func auditHash(at sequence: Int) throws -> String? {
        try session.rows("SELECT hash FROM lightbox.audit WHERE sequence = \(sequence)").first.map { try $0.decode(String.self) }
    }

    public func head() throws -> LedgerReceipt? {
        guard let row = try session.rows("SELECT sequence, hash FROM lightbox.audit ORDER BY sequence DESC LIMIT 1").first else { return nil }
        let (sequence, hash) = try row.decode((Int, String).self)
        return LedgerReceipt(sequence: sequence, hash: hash, inserted: false)
    }

    /// Every audit row this role sees, in order.
    public func verifyRows() throws -> [AuditChain.Row] {
        try session.rows("SELECT sequence, event, subject, payload, previous_hash, hash FROM lightbox.audit ORDER BY sequence").map {
            let (sequence, event, subject, payload, previous, hash) = try $0.decode((Int, String, String, String, String, String).self)
            return AuditChain.Row(sequence: sequence, event: event, subject: subject, payload: payload, previousHash: previous, hash: hash)
        }
    }

    /// Throws unless this role sees the whole chain (an auditor, the owner): `doing` says what needs it.
    public func requireWholeChain(_ doing: String) throws {
        let visible = try session.rows("SELECT count(*) FROM lightbox.audit").first.map { try $0.decode(Int.self) } ?? 0
        let total = try session.rows("SELECT sequence FROM lightbox.chain_head").first.map { try $0.decode(Int.self) } ?? 0
        guard visible >= total else {
            throw DepartmentError("\(location): \(location.user) sees \(visible) of the chain's \(total) rows (a reader sees their own): "
                                  + "\(doing) needs an auditor (`lightbox department add-reader NAME --auditor`) or the owner")
        }
    }

    /// The whole chain for an auditor or the owner; a reader sees only their own rows, and gets
    /// a verification that says so.
    public func verify(expectedHead: String?) throws -> LedgerVerification {
        try requireWholeChain("verifying the chain")
        let audit = try verifyRows()
        let decisions = try session.rows("SELECT id, audit_sequence, payload FROM lightbox.decisions ORDER BY audit_sequence").map {
            let (id, sequence, payload) = try $0.decode((String, Int, String).self)
            return AuditChain.DecisionRow(id: id, auditSequence: sequence, payload: payload)
        }
        return AuditChain.verify(audit: audit, decisions: decisions, expectedHead: expectedHead)
    }
}

/// `lightbox department init` and `add-reader`: run by the database owner.
public enum Department {
    /// Creates or migrates the schema, roles and function; returns the versions applied (empty
    /// when it was up to date).
    @discardableResult
    public static func initialise(_ location: PostgresLocation, password: String?) throws -> [Int] {
        let session = try PostgresSession(location, password: password)
        try session.execute(DepartmentSchema.bootstrap)
        let current = try session.rows("SELECT coalesce(max(version), 0) FROM lightbox.schema_version").first.map { try $0.decode(Int.self) } ?? 0
        guard current <= DepartmentSchema.version else {
            throw DepartmentError("\(location): the ledger's schema is version \(current), newer than this Lightbox (\(DepartmentSchema.version))")
        }
        var applied: [Int] = []
        for (version, sql) in DepartmentSchema.migrations where version > current {
            try session.execute("BEGIN")
            do {
                try session.execute(sql)
                try session.rows("INSERT INTO lightbox.schema_version (version) VALUES (\(version))")
                try session.execute("COMMIT")
            } catch {
                try? session.execute("ROLLBACK")
                throw error
            }
            applied.append(version)
        }
        return applied
    }

    /// What `department import` did.
    public struct ImportReport: Sendable, Equatable {
        /// Audit rows read from the workstation's file (its chain verified first).
        public var rows: Int
        /// Rows appended to the department's chain, and decisions already there (the same id
        /// and content: an earlier import of part of the file, a retried write).
        public var appended: Int
        public var alreadyPresent: Int
        /// The import's own audit row.
        public var receipt: LedgerReceipt
    }

    /// Moves a workstation's SQLite ledger into the department's (the owner only: each decision
    /// keeps the reader and time it was recorded with). The file's chain is verified first and
    /// nothing is imported when it does not; the whole import is one transaction, ending with an
    /// `import` audit event naming the file's head hash (a second import of the same head is refused).
    public static func importLedger(_ path: String, location: PostgresLocation, password: String?) throws -> ImportReport {
        let chain: (audit: [AuditChain.Row], decisions: [AuditChain.DecisionRow])
        do { chain = try SQLiteDecisionLedger.readChain(path: path) } catch { throw DepartmentError("\(error)") }
        let verification = AuditChain.verify(audit: chain.audit, decisions: chain.decisions, expectedHead: nil)
        guard verification.isIntact else {
            throw DepartmentError("\(path): its chain does not verify, nothing imported: \(verification.problems.prefix(3).joined(separator: "; "))")
        }
        guard let sourceHead = chain.audit.last?.hash else { throw DepartmentError("\(path): the ledger is empty, nothing to import") }
        let session = try PostgresSession(location, password: password)
        try PostgresDecisionLedger.checkVersion(session)
        if let earlier = try session.rows("SELECT sequence FROM lightbox.audit WHERE event = 'import' AND subject = \(sourceHead)").first {
            throw DepartmentError("\(path): already imported (audit row \(try earlier.decode(Int.self)), the same head \(sourceHead.prefix(12))…)")
        }
        let decisions = Dictionary(chain.decisions.map { ($0.auditSequence, $0) }, uniquingKeysWith: { first, _ in first })
        let fileHash: String
        do { fileHash = AuditChain.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw DepartmentError("\(path): \(error)")
        }
        var appended = 0, present = 0
        try session.execute("BEGIN")
        do {
            for row in chain.audit {
                var decisionID: String?, study: String?, reader: String?, time: Date?
                if row.event == "decision", let decision = decisions[row.sequence] {
                    let parsed: Decision
                    do { parsed = try PostgresDecisionLedger.decision(decision.payload) } catch {
                        throw DepartmentError("\(path): audit row \(row.sequence): the decision cannot be read (\(error))")
                    }
                    (decisionID, study, reader, time) = (decision.id, parsed.studyInstanceUID, parsed.reader, parsed.decidedAt.date)
                } else if let object = try? JSONSerialization.jsonObject(with: Data(row.payload.utf8)) as? [String: Any] {
                    reader = object["reader"] as? String
                }
                let result = try session.rows("""
                    SELECT inserted FROM lightbox.chain_append(\(row.event), \(row.subject), \(row.payload), \(decisionID), \(study), \(reader)::name, \(time))
                    """)
                if try result.first?.decode(Bool.self) == true { appended += 1 } else { present += 1 }
            }
            let details = CanonicalJSON.string(ImportDetails(file: URL(fileURLWithPath: path).lastPathComponent, fileSHA256: fileHash, rows: chain.audit.count,
                                                             appended: appended, alreadyPresent: present, sourceHead: sourceHead))
            guard let row = try session.rows("SELECT sequence, hash FROM lightbox.chain_append('import', \(sourceHead), \(details), NULL, NULL, NULL, NULL)").first else {
                throw DepartmentError("\(location): the server returned no receipt")
            }
            let (sequence, hash) = try row.decode((Int, String).self)
            try session.execute("COMMIT")
            return ImportReport(rows: chain.audit.count, appended: appended, alreadyPresent: present,
                                receipt: LedgerReceipt(sequence: sequence, hash: hash, inserted: true))
        } catch {
            try? session.execute("ROLLBACK")
            if let error = error as? DepartmentError, error.sqlState == "42501" {
                throw DepartmentError("\(location): only the ledger's owner can import (\(error))")
            }
            throw error
        }
    }

    struct ImportDetails: Encodable {
        var file: String
        var fileSHA256: String
        var rows: Int
        var appended: Int
        var alreadyPresent: Int
        var sourceHead: String
    }

    /// A server setting (`SHOW name`), for reports.
    public static func setting(_ location: PostgresLocation, password: String?, _ name: String) throws -> String? {
        guard name.allSatisfy({ $0.isLetter || $0 == "_" }) else { return nil }
        return try PostgresSession(location, password: password).rows(PostgresQuery(unsafeSQL: "SHOW \(name)")).first.map { try $0.decode(String.self) }
    }

    /// Runs SQL text as the given role (administration scripts and tests).
    public static func run(_ location: PostgresLocation, password: String?, _ sql: String) throws {
        try PostgresSession(location, password: password).execute(sql)
    }

    /// The first column of each row of a query, as text (administration scripts and tests).
    public static func query(_ location: PostgresLocation, password: String?, _ sql: String) throws -> [String] {
        try PostgresSession(location, password: password).rows(PostgresQuery(unsafeSQL: sql)).map { try $0.makeRandomAccess()[0].decode(String.self) }
    }

    /// Creates a login role for a reader (or makes an existing one a reader), with `password` when given.
    public static func addReader(_ name: String, password readerPassword: String?, auditor: Bool, location: PostgresLocation, password: String?) throws {
        guard name.range(of: "^[a-z_][a-z0-9_.-]{0,62}$", options: .regularExpression) != nil else {
            throw DepartmentError("\(name): a reader name is lower-case letters, digits, _ . - (at most 63), starting with a letter")
        }
        let session = try PostgresSession(location, password: password)
        try PostgresDecisionLedger.checkVersion(session)
        let quoted = "\"" + name + "\""
        let exists = try session.rows("SELECT 1 FROM pg_roles WHERE rolname = \(name)").isEmpty == false
        if !exists { try session.execute("CREATE ROLE \(quoted) LOGIN") }
        if let readerPassword {
            // Sent as a literal the server hashes (SCRAM); never logged.
            let literal = "'" + readerPassword.replacingOccurrences(of: "'", with: "''") + "'"
            try session.execute("ALTER ROLE \(quoted) PASSWORD \(literal)")
        }
        try session.execute("GRANT \(auditor ? DepartmentSchema.auditorRole : DepartmentSchema.readerRole) TO \(quoted)")
    }
}

extension PostgresDecisionLedger: StudyClaims {
    public func claim(_ studyInstanceUID: String) throws -> StudyClaim {
        let seconds = DepartmentSchema.claimSeconds
        guard let row = try session.rows("SELECT holder::text, until FROM lightbox.claim(\(studyInstanceUID), \(seconds)::integer)").first else {
            throw DepartmentError("\(location): the server returned no claim")
        }
        let (holder, until) = try row.decode((String, Date).self)
        return StudyClaim(studyInstanceUID: studyInstanceUID, reader: holder, until: until)
    }

    public func release(_ studyInstanceUID: String) throws {
        try session.rows("SELECT lightbox.release(\(studyInstanceUID))")
    }

    public func liveClaims() throws -> [StudyClaim] {
        try session.rows("SELECT study, holder::text, until FROM lightbox.live_claims()").map {
            let (study, holder, until) = try $0.decode((String, String, Date).self)
            return StudyClaim(studyInstanceUID: study, reader: holder, until: until)
        }
    }

    /// Every reader's decisions (for department-wide statistics), whoever asks: RLS keeps
    /// `decisions()` to the asker's own.
    public func departmentDecisions() throws -> [Decision] {
        try session.rows("SELECT payload FROM lightbox.department_decisions()").map {
            try Self.decision(try $0.decode(String.self))
        }
    }
}
