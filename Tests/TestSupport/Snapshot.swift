import Foundation
public import Testing
public import TerminalUI

/// Compares a frame with a recorded snapshot in the calling test target's Snapshots/ folder:
/// text rows and style changes are kept apart (never raw escape bytes). Image cells (half blocks)
/// are summarised by a checksum of their colours. Re-record with LIGHTBOX_RECORD_SNAPSHOTS=1.
public func expectSnapshot(_ buffer: ScreenBuffer, named name: String, filePath: String = #filePath,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    let folder = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    let file = folder.appendingPathComponent(name + ".txt")
    let actual = snapshotText(buffer)
    let record = ProcessInfo.processInfo.environment["LIGHTBOX_RECORD_SNAPSHOTS"] == "1"
    guard !record, let expected = try? String(contentsOf: file, encoding: .utf8) else {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try? actual.write(to: file, atomically: true, encoding: .utf8)
        Issue.record("snapshot \(name) recorded; run again to compare", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let firstDifference = zip(expectedLines, actualLines).enumerated().first { $0.element.0 != $0.element.1 }
        let where_ = firstDifference.map { "line \($0.offset + 1):\n- \($0.element.0)\n+ \($0.element.1)" } ?? "lengths differ"
        Issue.record("snapshot \(name) differs at \(where_)\n(re-record with LIGHTBOX_RECORD_SNAPSHOTS=1)", sourceLocation: sourceLocation)
    }
}

/// The snapshot form of a frame.
public func snapshotText(_ buffer: ScreenBuffer) -> String {
    var lines = ["# \(buffer.width)x\(buffer.height) text"]
    lines += buffer.textRows.map { "|" + $0 }
    var imageCells = 0
    var checksum: UInt64 = 1469598103934665603
    var styles: [String] = []
    for y in 0..<buffer.height {
        var previous: CellStyle?
        for x in 0..<buffer.width {
            let cell = buffer[x, y]
            if let scalar = cell.character.unicodeScalars.first, cell.character == "▀" || isSymbolCell(scalar, cell.style) {
                imageCells += 1
                // Half blocks by their colours; quadrants and sextants by their symbol as well.
                let symbol = cell.character == "▀" ? "" : String(cell.character)
                for byte in "\(symbol)\(cell.style.foreground)\(cell.style.background)".utf8 { checksum = (checksum ^ UInt64(byte)) &* 1099511628211 }
                previous = nil
                continue
            }
            if cell.style != previous {
                styles.append("\(y):\(x) \(StyleRuns.describe(single: cell.style))")
                previous = cell.style
            }
        }
    }
    lines.append("# image cells: \(imageCells), colour checksum \(String(checksum, radix: 16))")
    lines.append("# style changes")
    lines += styles
    return lines.joined(separator: "\n") + "\n"
}

/// A quadrant or sextant cell of a picture (block elements U+2580–U+259F or sextants
/// U+1FB00–U+1FB3B in direct colour on both sides; a uniform cell, drawn as a space, is a style).
func isSymbolCell(_ scalar: Unicode.Scalar, _ style: CellStyle) -> Bool {
    guard case .rgb = style.foreground, case .rgb = style.background else { return false }
    return (0x2580...0x259F).contains(scalar.value) || (0x1FB00...0x1FB3B).contains(scalar.value)
}
