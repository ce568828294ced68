import ArgumentParser
import Foundation
import LightboxServices

/// The `lightbox` command: the reviewer by default, subcommands for scripts.
@main
struct Lightbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lightbox",
        abstract: "Review AI results on imaging studies in the terminal (a research and triage tool, not a diagnostic device).",
        subcommands: [ReviewCommand.self, Scan.self, Info.self, Render.self, Triage.self, ModelCommand.self, Similar.self, Decide.self, Decisions.self, Audit.self, Stats.self, Monitor.self, DepartmentCommand.self, PacsCommand.self, Doctor.self,
                      GenerateSamples.self],
        defaultSubcommand: ReviewCommand.self
    )

    /// Exit codes 0 ok, 1 failure, 2 usage (ArgumentParser's own usage code is 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CLIFailure {
            // The one place a command's failure becomes "FILE: reason" on stderr and exit 1.
            CLI.printError(failure.description)
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
