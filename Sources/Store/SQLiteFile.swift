import Foundation
import GRDB

/// How every Lightbox database is opened: WAL journal, a busy timeout so two processes wait
/// for each other instead of failing, then the store's own migrations.
enum SQLiteFile {
    /// `synchronousFull`: every commit reaches the disk before it returns (the decision ledger).
    static func open(_ path: String, migrator: DatabaseMigrator, synchronousFull: Bool = false, busyTimeout: Double = 10) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        if synchronousFull {
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous=FULL") }
        }
        let database = try DatabaseQueue(path: path, configuration: configuration)
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode=WAL") }
        // Two processes opening a new file at once both try to migrate; the loser's transaction
        // fails once the winner has created the tables, and the retry finds them applied.
        var attempt = 0
        while true {
            do {
                try migrator.migrate(database)
                return database
            } catch {
                attempt += 1
                if attempt >= 5 { throw error }
                usleep(UInt32(20_000 * attempt))
            }
        }
    }
}
