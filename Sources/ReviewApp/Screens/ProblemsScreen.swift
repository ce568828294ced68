import LightboxCore
import TerminalUI

/// The files of the source that could not be read, each with its reason, counted by reason on
/// the first line; the rest of the worklist works as usual.
enum ProblemsScreen {
    static func draw(_ state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        Screens.titleBar("Lightbox · files that could not be read · \(state.sourceName)", state: state, context: context, into: &buffer)
        var counts: [String: Int] = [:]
        for problem in state.problems { counts[problem.reason, default: 0] += 1 }
        let summary = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key): \($0.value)" }.joined(separator: " · ")
        buffer.put(SafeText.sanitize("\(state.problems.count) file(s) — \(summary)"), x: 1, y: 1, style: theme.warningStyle, maxWidth: state.width - 2)
        // Messages name the file and the reason; long ones wrap onto the next line.
        var lines: [TextBlock.Line] = []
        for problem in state.problems[min(state.problemsOffset, state.problems.count)...].prefix(state.height) {
            for (index, part) in SidePanel.wrap(SafeText.sanitize(problem.message), width: max(10, state.width - 4)).enumerated() {
                lines.append(TextBlock.Line((index == 0 ? "" : "  ") + part, index == 0 ? theme.textStyle : theme.dimStyle))
            }
        }
        TextBlock(lines: lines, offset: 0).draw(in: Rect(x: 1, y: 3, width: state.width - 2, height: state.height - 4), into: &buffer)
        Screens.statusBar("↑/↓ PgUp/PgDn scroll · any other key back · lightbox scan DIR lists them too",
                          right: "\(min(state.problemsOffset + 1, state.problems.count))/\(state.problems.count) ",
                          state: state, context: context, into: &buffer)
    }
}
