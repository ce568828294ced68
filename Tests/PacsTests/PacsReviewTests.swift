import DicomReading
import Foundation
import LightboxCore
import LightboxServices
import ReviewApp
import Store
import Testing
import TerminalUI
import TestSupport

/// The reviewer on a PACS source (the real Orthanc): the worklist from the query, a study
/// retrieved when it is opened (its progress in the worklist row and the viewer), the next ones
/// fetched ahead; with the PACS down, the cached studies, said so, and the rest refused by name.
extension OrthancTests {
    func reviewer(_ source: PacsStudySource, prefetch: Int) -> (ReviewApplication, VirtualTerminal) {
        let terminal = VirtualTerminal(width: 160, height: 48, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, analyseWorklist: false, prefetchStudies: prefetch,
                                    theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: 160, height: 48))
        app.start()
        app.processPendingMessages()
        return (app, terminal)
    }

    @Test func theReviewerReadsAPacsAndKeepsWorkingWhenItGoesDown() throws {
        guard let server else { return }
        let source = try source(server.dicomWebURL)
        let (app, _) = reviewer(source, prefetch: 2)
        #expect(app.state.studies.count == 5 + Self.generatedStudies)
        #expect(app.frame().textRows.joined(separator: "\n").contains("CT CHEST (synthetic phantom"))
        // Progress of a retrieve shows in the row while it runs.
        app.apply(.retrieveProgress(studyInstanceUID: Self.ctStudy, stored: 3, total: 28))
        #expect(app.frame().textRows.joined(separator: "\n").contains("↓ 3/28"))
        // Opening the CT retrieves it (the progress messages arrive; the last clears the mark).
        let row = try #require(app.state.row(of: Self.ctStudy))
        while app.state.selectedRow < row { app.apply(.key(.down)) }
        app.apply(.key(.enter))
        app.processPendingMessages()
        #expect(app.state.currentStudy?.imageCount == 28, "\(app.state.viewer?.studyError ?? "")")
        #expect(app.state.retrievals[Self.ctStudy] == nil)
        let viewer = app.frame().textRows.joined(separator: "\n")
        #expect(viewer.contains("Image     1/28"), "\(viewer)")
        // The next two in the list were fetched ahead.
        let next = app.state.visible[(row + 1)...].prefix(2).map { app.state.studies[$0].studyInstanceUID }
        for uid in next {
            let folder = source.folder(of: uid)
            #expect(source.cache.isComplete(folder), "\(uid) was not fetched ahead")
        }
        app.apply(.key(.character("q")))

        // The PACS goes down: a new session lists what the cache holds and says why.
        server.stop()
        defer { try? server.start() }
        let (offline, _) = reviewer(try self.source(server.dicomWebURL), prefetch: 2)
        #expect(offline.state.studies.count == 3)
        #expect(offline.state.message?.contains("(offline)") == true && offline.state.message?.contains(server.dicomWebURL) == true,
                "\(offline.state.message ?? "")")
        offline.apply(.key(.enter))
        offline.processPendingMessages()
        #expect(offline.state.currentStudy != nil, "a cached study opens offline: \(offline.state.viewer?.studyError ?? "")")
    }
}

extension OrthancTests {
    @Test func doctorChecksEachConfiguredSource() throws {
        guard let server else { return }
        let secret = "pw-\(UUID().uuidString)"
        let file = home.file("secret")
        try Data(secret.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let config = """
        [sources.web]
        url = "\(server.dicomWebURL)"
        username = "reader"
        password_file = "\(file)"
        [sources.dimse]
        url = "\(server.dimseURL)"
        [sources.wrong_title]
        url = "dicom://NOT_ORTHANC@127.0.0.1:\(server.dicomPort)"
        [sources.down]
        url = "http://127.0.0.1:\(try OrthancServer.freePort())/dicom-web"
        """
        try Data(config.utf8).write(to: URL(fileURLWithPath: home.file("config.toml")))
        let run = try CommandRun.lightbox(["doctor"], home: home.path)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("web: answers echo and a query (1 row") && $0.hasPrefix("✓") }, "\(run.stdout)")
        #expect(lines.contains { $0.contains("dimse: answers echo and a query (1 row") && $0.hasPrefix("✓") })
        #expect(lines.contains { $0.contains("wrong_title: the association was rejected") && $0.hasPrefix("✗") })
        #expect(lines.contains { $0.contains("down: connection refused") && $0.hasPrefix("✗") })
        #expect(run.status == 1)
        #expect(!run.stdout.contains(secret) && !run.stderr.contains(secret))
    }
}

extension OrthancTests {
    @Test func aStudyBeingFetchedIsHandedOverWithItsFirstImage() throws {
        guard let server else { return }
        for url in [server.dicomWebURL, server.dimseURL] {
            let source = try source(url)
            let partials = Counter()
            let firstImages = Counter()
            let whole = try source.study(Self.ctStudy) { partial in
                partials.add()
                if partial.imageCount == 1 { firstImages.add() }
            }
            #expect(partials.value == 1 && firstImages.value == 1, "\(url)")
            #expect(whole.imageCount == 28)
            // Held whole already: no partial study.
            partials.reset()
            _ = try source.study(Self.ctStudy) { _ in partials.add() }
            #expect(partials.value == 0)
        }
    }
}

extension OrthancTests {
    @Test func aCachedFileDamagedOnDiskIsFetchedAgain() throws {
        guard let server else { return }
        let source = try source(server.dicomWebURL)
        let folder = try source.retrieve(Self.ctStudy)
        // What a power loss can leave: the name, not the bytes.
        let victim = try #require(source.cache.cached(folder).sorted().first)
        try Data(repeating: 0, count: 300).write(to: URL(fileURLWithPath: folder + "/" + victim + ".dcm"))
        let study = try source.study(Self.ctStudy)
        #expect(study.imageCount == 28)
        #expect(FileManager.default.contentsEqual(atPath: try #require(uploaded[victim]), andPath: folder + "/" + victim + ".dcm"))
    }
}
