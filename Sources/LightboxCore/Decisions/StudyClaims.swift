public import Foundation

/// A reader's claim on a study they have open (department mode): not a decision and not chained,
/// it only tells the others who is reading what. It lasts until `until` unless renewed.
public struct StudyClaim: Sendable, Equatable {
    public var studyInstanceUID: String
    public var reader: String
    public var until: Date

    public init(studyInstanceUID: String, reader: String, until: Date) {
        self.studyInstanceUID = studyInstanceUID
        self.reader = reader
        self.until = until
    }
}

/// Who is reading what (port): the department server implements it; a workstation alone has no claims.
public protocol StudyClaims: Sendable {
    /// Claims `study` for this reader (or renews their claim) unless someone else holds a live
    /// claim; returns the claim that holds now (this reader's, or the other's).
    func claim(_ studyInstanceUID: String) throws -> StudyClaim
    /// Gives this reader's claim up (nothing when they hold none).
    func release(_ studyInstanceUID: String) throws
    /// Every live claim, by anyone.
    func liveClaims() throws -> [StudyClaim]
}
