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
        // Switching a new file to WAL needs an exclusive lock that SQLite's busy handler does not
        // wait for: when another process is creating the same file, retry for a while.
        var tries = 0
        while true {
            do {
                try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode=WAL") }
                break
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                tries += 1
                if Double(tries) * 0.02 > busyTimeout { throw error }
                usleep(20_000)
            }
        }
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
