import GRDB

/// How every Lightbox database is opened: WAL journal, a busy timeout so two processes wait
/// for each other instead of failing, then the store's own migrations.
enum SQLiteFile {
    static func open(_ path: String, migrator: DatabaseMigrator) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let database = try DatabaseQueue(path: path, configuration: configuration)
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode=WAL") }
        try migrator.migrate(database)
        return database
    }
}
