import DicomReading
import Foundation
import LightboxCore
import Testing
import TestSupport

/// The built binary in tmux: open a sample study, scroll, toggle the overlay, resize, quit;
/// signals; terminals without colour, Unicode or a tty; hostile text in DICOM files.
struct TerminalSessionTests {
    @Test("a review session", arguments: [("tmux-256color", "\u{1B}[38;5;"), ("tmux-direct", "\u{1B}[38;2;")])
    func session(term: String, colourEscape: String) throws {
        let tmux = try TmuxSession(arguments: [Fixtures.samples], environment: ["TERM": term, "LANG": "C.UTF-8"])
        #expect(tmux.waitFor("CT CHEST (synthetic phantom"), "worklist did not appear: \((try? tmux.capture()) ?? "")")
        #expect(!(try tmux.capture()).contains("PHANTOM"), "identifiers are masked")
        try tmux.keys("Enter")
        #expect(tmux.waitFor("slice 1/28"))
        try tmux.keys("j", "j", "Down")
        #expect(tmux.waitFor("slice 4/28"))
        try tmux.keys("S-Down")
        #expect(tmux.waitFor("slice 14/28"))
        try tmux.keys("g")
        #expect(tmux.waitFor("overlay off"))
        try tmux.keys("g")
        #expect(tmux.waitFor("overlay 50%"))
        let screen = try tmux.capture(escapes: true)
        #expect(screen.contains("▀"), "no half blocks drawn")
        #expect(screen.contains(colourEscape), "no \(term) colour escapes")
        try tmux.resize(width: 90, height: 28)
        // Redrawn for the new size: the status bar's right end moves to column 90.
        #expect(tmux.waitUntil { screen in
            let lines = screen.split(separator: "\n")
            return lines.count <= 28 && lines.allSatisfy { $0.count <= 90 } && lines.contains { $0.contains("slice 14/28") && $0.hasSuffix("back") }
        })
        try tmux.resize(width: 30, height: 8)
        #expect(tmux.waitFor("Terminal too small"))
        try tmux.resize(width: 120, height: 40)
        #expect(tmux.waitFor("slice 14/28"))
        try tmux.keys("q")
        #expect(tmux.waitFor("Enter open"))
        try tmux.keys("q")
        #expect(tmux.waitForExit() == 0)
        let settings = tmux.terminalSettings()
        #expect(settings.before == settings.after)
    }

    @Test func aBrokenModelStillOpensTheReviewerWhichSaysNoModel() throws {
        let broken = TemporaryFolder("broken-model")
        let tiny = Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model"
        try FileManager.default.copyItem(atPath: tiny + "/model.json", toPath: broken.path + "/model.json")
        let onnx = try Data(contentsOf: URL(fileURLWithPath: tiny + "/model.onnx"))
        try onnx.prefix(onnx.count / 2).write(to: URL(fileURLWithPath: broken.path + "/model.onnx"))
        let tmux = try TmuxSession(arguments: [Fixtures.samples, "--model", broken.path], environment: ["TERM": "tmux-256color", "LANG": "C.UTF-8"])
        #expect(tmux.waitFor("CT CHEST (synthetic phantom"), "worklist did not appear: \((try? tmux.capture()) ?? "")")
        let worklist = try tmux.capture()
        #expect(worklist.contains("no model"))
        #expect(worklist.contains("model.onnx"), "the notice names the file")
        try tmux.keys("Enter")
        #expect(tmux.waitFor("No model"))
        try tmux.keys("q", "q")
        #expect(tmux.waitForExit() == 0)
    }

    /// The reviewer and `lightbox decide` record the same hash of the same AI output.
    @Test func theReviewerAndDecideRecordTheSameOutputHash() throws {
        let home = TemporaryFolder("same-hash"), folder = TemporaryFolder("same-hash-source")
        try FileManager.default.copyItem(atPath: Fixtures.samples + "/brain-mr", toPath: folder.path + "/brain-mr")
        let tiny = Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model"
        let cli = CommandLineTests()
        let triage = try cli.run(["triage", folder.path, "--model", tiny, "--json"], home: home)
        let results = try JSONSerialization.jsonObject(with: Data(triage.stdout.utf8)) as? [[String: Any]]
        let uid = try #require(results?.first?["studyInstanceUID"] as? String)
        #expect(try cli.run(["decide", uid, "--accept", "--model", tiny], home: home).status == 0)
        let tmux = try TmuxSession(arguments: [folder.path, "--model", tiny],
                                   environment: ["TERM": "tmux-256color", "LANG": "C.UTF-8", "LIGHTBOX_HOME": home.path])
        #expect(tmux.waitFor("%"), "no result in the worklist: \((try? tmux.capture()) ?? "")")
        try tmux.keys("Enter")
        #expect(tmux.waitFor("calibrated"))
        try tmux.keys("a")
        #expect(tmux.waitFor("Saved: accept"), "\((try? tmux.capture()) ?? "")")
        try tmux.keys("q", "q")
        #expect(tmux.waitForExit() == 0)
        let export = try cli.run(["decisions", "export", "--format", "jsonl"], home: home)
        let records = export.stdout.split(separator: "\n").dropFirst().compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let hashes = records.compactMap { $0["outputHash"] as? String }
        #expect(hashes.count == 2, "\(export.stdout)")
        #expect(Set(hashes).count == 1 && hashes.first?.count == 64, "decide and the reviewer hashed different outputs: \(hashes)")
    }

    @Test func theBundledModelRanksTheSamplesAndFillsThePanel() throws {
        let tmux = try TmuxSession(arguments: [Fixtures.samples], environment: ["TERM": "tmux-256color", "LANG": "C.UTF-8"])
        #expect(tmux.waitFor("%"), "no calibrated probability: \((try? tmux.capture()) ?? "")")
        let worklist = try tmux.capture()
        #expect(["▲ High", "△ Medium", "? Review"].contains { worklist.contains($0) }, "no tier: \(worklist)")
        try tmux.keys("Enter")
        #expect(tmux.waitFor("calibrated"), "panel: \((try? tmux.capture()) ?? "")")
        #expect(tmux.waitFor("lightbox-anomaly-unet"), "the panel names the model: \((try? tmux.capture()) ?? "")")
        // A decision: "Saved" once the ledger has committed; the status follows in the worklist.
        try tmux.keys("a")
        #expect(tmux.waitFor("Saved: accept"), "no saved message: \((try? tmux.capture()) ?? "")")
        try tmux.keys("s")
        #expect(tmux.waitFor("Similar cases"))
        // The first search seeds the reference cases (the samples through the model): wait for the list.
        #expect(tmux.waitFor("Enter shows it"), "no similar cases listed: \((try? tmux.capture()) ?? "")")
        try tmux.keys("Enter")
        #expect(tmux.waitFor("beside this study (Esc closes)"), "no case beside the study: \((try? tmux.capture()) ?? "")")
        try tmux.keys("Escape", "q")
        #expect(tmux.waitFor("accepted"))
        try tmux.keys("q")
        #expect(tmux.waitForExit() == 0)
    }

    @Test("signals restore the terminal", arguments: [(SIGTERM, 143), (SIGHUP, 129), (SIGINT, 130)])
    func signals(signal: Int32, expectedStatus: Int) throws {
        let tmux = try TmuxSession(arguments: [Fixtures.samples], environment: ["TERM": "tmux-256color", "LANG": "C.UTF-8"])
        #expect(tmux.waitFor("CT CHEST"))
        try tmux.keys("Enter")
        #expect(tmux.waitFor("slice 1/28"))
        let pid = try #require(try tmux.programPID())
        kill(pid, signal)
        #expect(tmux.waitForExit() == expectedStatus)
        let settings = tmux.terminalSettings()
        #expect(settings.before == settings.after)
    }

    @Test func suspendAndResume() throws {
        let tmux = try TmuxSession(arguments: [Fixtures.samples], environment: ["TERM": "tmux-256color", "LANG": "C.UTF-8"], jobControl: true)
        #expect(tmux.waitFor("CT CHEST"))
        let pid = try #require(try tmux.programPID())
        kill(pid, SIGTSTP)
        let deadline = Date().addingTimeInterval(10)
        // The shell writes `stty -g` there once the program has stopped: wait for the whole line.
        func written() -> Bool { ((try? String(contentsOfFile: tmux.during, encoding: .utf8)) ?? "").hasSuffix("\n") }
        while !written() && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let before = tmux.terminalSettings().before
        let during = (try? String(contentsOfFile: tmux.during, encoding: .utf8)) ?? "not suspended"
        #expect(during == before, "the terminal is given back while suspended")
        // The shell has resumed it with fg (SIGCONT): it redraws and takes keys again.
        #expect(tmux.waitFor("CT CHEST"))
        try tmux.keys("Enter")
        #expect(tmux.waitFor("slice 1/28"))
        try tmux.keys("q", "q")
        #expect(tmux.waitForExit() == 0)
        #expect(tmux.terminalSettings().after == before)
    }

    @Test func dumbTerminalPointsAtRender() throws {
        let tmux = try TmuxSession(arguments: [Fixtures.samples], environment: ["TERM": "dumb"])
        #expect(tmux.waitForExit() == 2)
        #expect(try tmux.capture().contains("lightbox render"))
    }

    @Test func noTTYPointsAtRender() throws {
        let home = TemporaryFolder("home")
        let result = try CommandLineTests().run([Fixtures.samples], home: home)
        #expect(result.status == 2)
        #expect(result.stderr.contains("lightbox render"))
    }

    @Test func noColorDrawsWithoutColour() throws {
        let tmux = try TmuxSession(arguments: [Fixtures.samples], environment: ["TERM": "tmux-256color", "NO_COLOR": "1", "LANG": "C.UTF-8"])
        #expect(tmux.waitFor("CT CHEST"))
        try tmux.keys("Enter")
        #expect(tmux.waitFor("slice 1/28"))
        // The picture is on screen once density characters show.
        #expect(tmux.waitUntil { $0.contains("@") || $0.contains("%") || $0.contains("#") })
        let screen = try tmux.capture(escapes: true)
        #expect(!screen.contains("[38;"), "colour escapes despite NO_COLOR")
        #expect(!screen.contains("▀"))
        #expect(screen.contains("@") || screen.contains("%") || screen.contains("#"))
        try tmux.keys("q", "q")
        #expect(tmux.waitForExit() == 0)
    }

    @Test func asciiOnlyUnderLangC() throws {
        let tmux = try TmuxSession(arguments: [Fixtures.samples], environment: ["TERM": "tmux-256color", "LANG": "C", "LC_ALL": "C"])
        #expect(tmux.waitFor("CT CHEST"))
        try tmux.keys("Enter")
        #expect(tmux.waitFor("+ Study "))
        let screen = try tmux.capture()
        #expect(!screen.contains("▀") && !screen.contains("┌"))
        try tmux.keys("q", "q")
        #expect(tmux.waitForExit() == 0)
    }

    @Test func escapeSequencesInDicomTextAreInert() throws {
        let folder = TemporaryFolder("hostile")
        var header = Fixtures.header(rows: 16, columns: 16)
        header.patientName = "CANARY^PHI"
        header.patientID = "CANARY123"
        header.studyDescription = "EVIL\u{1B}]2;pwned\u{07}\u{1B}[2J\u{1B}[31mRED"
        try Fixtures.write(header, to: folder.file("hostile.dcm"))
        let tmux = try TmuxSession(arguments: [folder.path], environment: ["TERM": "tmux-256color", "LANG": "C.UTF-8"])
        #expect(tmux.waitFor("EVIL"))
        let screen = try tmux.capture()
        #expect(screen.contains("\u{FFFD}]2;pwned"))
        #expect(try tmux.paneTitle() != "pwned")
        #expect(!screen.contains("CANARY"))
        try tmux.keys("Enter", "i")
        #expect(tmux.waitFor("(0010,0010)"))
        #expect(!(try tmux.capture()).contains("CANARY"), "the header view masks identifiers")
        try tmux.keys("q", "q", "q")
        #expect(tmux.waitForExit() == 0)
    }
}
