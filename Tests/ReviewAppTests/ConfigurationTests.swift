import Foundation
import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport

struct ThemeTests {
    @Test("every bundled theme loads", arguments: ["dark", "light", "high-contrast", "colour-blind-safe"])
    func bundled(name: String) throws {
        let theme = try Theme.load(path: Fixtures.repositoryRoot + "/themes/\(name).toml")
        #expect(theme.name == name)
        #expect(theme.text != theme.background && theme.barText != theme.barBackground && theme.selectionText != theme.selectionBackground)
    }

    @Test func themesDiffer() throws {
        let themes = try ["dark", "light", "high-contrast", "colour-blind-safe"].map { try Theme.load(path: Fixtures.repositoryRoot + "/themes/\($0).toml") }
        #expect(Set(themes.map { "\($0.text)\($0.selectionBackground)" }).count == 4)
        #expect(themes.last?.colormap == .cividis)
    }

    @Test func brokenThemesNameTheFileAndTheReason() throws {
        let folder = TemporaryFolder("theme")
        let cases = [
            ("[ui\ntext = 1", "not valid TOML"),
            ("[ui]\ntext = \"red\"", "[ui] text = \"red\" is not #rrggbb"),
            ("[heatmap]\ncolormap = \"jet\"", "colormap 'jet'"),
        ]
        for (index, (text, reason)) in cases.enumerated() {
            let path = folder.file("t\(index).toml")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect {
                _ = try Theme.load(path: path)
            } throws: { error in
                guard let error = error as? ConfigurationError else { return false }
                return error.path == path && error.reason.contains(reason)
            }
        }
        let partial = folder.file("partial.toml")
        try "[ui]\naccent = \"#ff0000\"".write(toFile: partial, atomically: true, encoding: .utf8)
        let theme = try Theme.load(path: partial)
        #expect(theme.accent == .rgb(255, 0, 0))
        #expect(theme.text == Theme.dark.text, "keys a theme leaves out come from the dark theme")
    }
}

struct ConfigurationFileTests {
    @Test func readsSettingsAndKeys() throws {
        let folder = TemporaryFolder("config")
        let path = folder.file("config.toml")
        try """
        theme = "light"
        reader = "dr.example"
        show_identifiers = true
        source = "/data"
        analyse_worklist = false

        [keys]
        next_slice = ["x", "Down"]
        toggle_overlay = "v"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try Configuration.load(path: path)
        #expect(configuration.theme == "light")
        #expect(configuration.reader == "dr.example")
        #expect(configuration.showIdentifiers)
        #expect(configuration.source == "/data")
        #expect(!configuration.analyseWorklist && Configuration().analyseWorklist)
        #expect(configuration.keys == ["next_slice": ["x", "Down"], "toggle_overlay": ["v"]])
        var map = KeyMap.defaults
        #expect(map.rebind(configuration.keys).isEmpty)
        #expect(map.action(for: .character("v"), in: .viewer) == .toggleOverlay)
    }

    @Test func missingFileGivesDefaultsAndBrokenOneSaysWhere() throws {
        let folder = TemporaryFolder("config")
        #expect(try Configuration.load(path: folder.file("none.toml")) == Configuration())
        let path = folder.file("config.toml")
        // Not TOML at all: the file is named with the reason.
        try "theme = \"light".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try Configuration.load(path: path)
        } throws: { error in
            (error as? ConfigurationError).map { $0.path == path && $0.reason.hasPrefix("not valid TOML") } ?? false
        }
    }

    @Test func aBrokenKeyCostsThatSettingOnlyAndIsReportedWithTheFileAndKey() throws {
        let folder = TemporaryFolder("config")
        let path = folder.file("config.toml")
        try """
        theme = "light"
        reader = 42
        analyse_worklist = "no"
        fusion_temperature = -1
        thme = "dark"

        [keys]
        next_slice = 5
        toggle_overlay = "v"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try Configuration.load(path: path)
        // Good keys still apply.
        #expect(configuration.theme == "light")
        #expect(configuration.keys == ["toggle_overlay": ["v"]])
        // Broken ones keep their defaults, each reported with the file and the key.
        #expect(configuration.reader == nil && configuration.analyseWorklist && configuration.fusionTemperature == 0.1)
        let problems = configuration.problems
        #expect(problems.count == 5, "\(problems)")
        #expect(problems.allSatisfy { $0.hasPrefix(path + ": ") })
        #expect(problems.contains { $0.contains("reader must be text") })
        #expect(problems.contains { $0.contains("analyse_worklist must be true or false") })
        #expect(problems.contains { $0.contains("fusion_temperature must be a number above 0") })
        #expect(problems.contains { $0.contains("unknown setting 'thme'") })
        #expect(problems.contains { $0.contains("[keys] next_slice must be a key name") })
    }

    @Test func siteAndMonitorSettings() throws {
        let folder = TemporaryFolder("config-monitor")
        let path = folder.file("config.toml")
        try """
        site = "north wing"

        [monitor]
        window_days = 7
        minimum_studies = 60
        reference_studies = 0
        wndow = 3
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try Configuration.load(path: path)
        #expect(configuration.site == "north wing")
        #expect(configuration.monitorWindowDays == 7 && configuration.monitorMinimumStudies == 60)
        // 0 is refused (its default kept), an unknown key is named.
        #expect(configuration.monitorReferenceStudies == 500)
        #expect(configuration.problems.count == 2, "\(configuration.problems)")
        #expect(configuration.problems.contains { $0.contains("[monitor] reference_studies must be a whole number above 0") })
        #expect(configuration.problems.contains { $0.contains("[monitor] unknown setting 'wndow'") })
        #expect(Configuration().site == "local")
    }
}
