import Foundation
import LightboxCore
import TerminalUI

/// The key map, drawn from the same bindings table the app dispatches on.
enum HelpScreen {
    static func lines(_ state: AppState, context: ScreenContext) -> [TextBlock.Line] {
        let theme = context.theme
        var lines: [TextBlock.Line] = [
            TextBlock.Line("Lightbox is a research and triage tool. Block-character images are far below diagnostic", theme.warningStyle),
            TextBlock.Line("resolution, and nothing shown here is a diagnosis.", theme.warningStyle),
            TextBlock.Line("", theme.textStyle),
        ]
        for context in KeyContext.allCases {
            lines.append(TextBlock.Line(context.title, theme.accentStyle))
            for binding in state.keyMap.bindings where binding.context == context {
                let keys = binding.keys.map(\.name).joined(separator: " ")
                lines.append(TextBlock.Line([("  " + keys.padding(toLength: 20, withPad: " ", startingAt: 0), theme.accentStyle),
                                             (binding.help, theme.textStyle)]))
            }
            lines.append(TextBlock.Line("", theme.textStyle))
        }
        lines.append(TextBlock.Line("Keys can be changed in config.toml, table [keys] (see README).", theme.dimStyle))
        return lines
    }

    static func draw(_ state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        Screens.titleBar("Lightbox · keys", state: state, context: context, into: &buffer)
        let all = lines(state, context: context)
        let height = state.height - 3
        let offset = min(state.helpOffset, max(0, all.count - height))
        TextBlock(lines: all, offset: offset).draw(in: Rect(x: 2, y: 2, width: state.width - 4, height: height), into: &buffer)
        Screens.statusBar("↑/↓ scroll · any other key closes", state: state, context: context, into: &buffer)
    }
}

/// The full DICOM header of the current image: sanitised, identifiers masked unless shown.
enum HeaderScreen {
    static func draw(_ state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        Screens.titleBar("Lightbox · DICOM header · \(state.currentSlice?.key.description ?? "")", state: state, context: context, into: &buffer)
        // Which values identify someone is decided in LightboxCore, on tags and VRs.
        let lines = state.headerLines.map { TextBlock.Line($0.text(showIdentifiers: state.showIdentifiers), theme.textStyle) }
        TextBlock(lines: lines, offset: state.headerOffset).draw(in: Rect(x: 1, y: 1, width: state.width - 2, height: state.height - 2), into: &buffer)
        Screens.statusBar("↑/↓ PgUp/PgDn scroll · any other key back", right: "\(min(state.headerOffset + 1, lines.count))/\(lines.count) ",
                          state: state, context: context, into: &buffer)
    }
}
