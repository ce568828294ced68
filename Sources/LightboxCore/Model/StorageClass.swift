/// What a SOP class says about pixels: which objects are images that must carry pixel data,
/// and which never do (reports, key objects, presentation states…), so that a missing pixel
/// data element is an error for the first and a quiet skip for the second.
public enum StorageClass {
    /// SOP class UID prefixes of objects without pixel data (PS3.4 B.5): structured reports and
    /// key object selection (…88), presentation states (…11), waveforms (…9), encapsulated
    /// documents (…104), raw data, registrations, fiducials and surfaces (…66, …68), real-world
    /// value mapping (…67), content assessment (…90), protocols (…200), and the RT objects that
    /// are not images or doses (…481.3 onwards); DICOMDIR.
    static let withoutPixels = [
        "1.2.840.10008.5.1.4.1.1.88.", "1.2.840.10008.5.1.4.1.1.11.", "1.2.840.10008.5.1.4.1.1.9.",
        "1.2.840.10008.5.1.4.1.1.104.", "1.2.840.10008.5.1.4.1.1.66", "1.2.840.10008.5.1.4.1.1.67",
        "1.2.840.10008.5.1.4.1.1.68.", "1.2.840.10008.5.1.4.1.1.90.", "1.2.840.10008.5.1.4.1.1.200.",
        "1.2.840.10008.5.1.4.1.1.481.3", "1.2.840.10008.5.1.4.1.1.481.4", "1.2.840.10008.5.1.4.1.1.481.5",
        "1.2.840.10008.5.1.4.1.1.481.6", "1.2.840.10008.5.1.4.1.1.481.7", "1.2.840.10008.5.1.4.1.1.481.8",
        "1.2.840.10008.5.1.4.1.1.481.9", "1.2.840.10008.5.1.4.1.1.481.10", "1.2.840.10008.5.1.4.1.1.481.11",
        "1.2.840.10008.5.1.4.1.1.481.12", "1.2.840.10008.5.1.4.1.1.481.13", "1.2.840.10008.5.1.4.34.",
        "1.2.840.10008.1.3.10",
    ]

    /// Segmentation and Parametric Map: pixels that are another system's AI result over images,
    /// not images to read (the folder index leaves them out of the series; the viewer shows them
    /// as results).
    public static let segmentation = "1.2.840.10008.5.1.4.1.1.66.4"
    public static let parametricMap = "1.2.840.10008.5.1.4.1.1.30"
    /// Structured reports (Basic, Enhanced, Comprehensive, Comprehensive 3D…): the prefix of their classes.
    public static let reportPrefix = "1.2.840.10008.5.1.4.1.1.88."
    public static let aiResults = [segmentation, parametricMap]

    /// True for a SEG or a parametric map.
    public static func isAIResult(_ sopClassUID: String) -> Bool { aiResults.contains(sopClassUID) }

    /// True when objects of `sopClassUID` hold no pixel data by definition (an unknown or empty
    /// class counts as such: nothing says it should have pixels).
    public static func neverCarriesPixels(_ sopClassUID: String) -> Bool {
        sopClassUID.isEmpty || !sopClassUID.hasPrefix("1.2.840.10008.") ||
            withoutPixels.contains { prefix in
                sopClassUID.hasPrefix(prefix) && (prefix.hasSuffix(".") || sopClassUID.count == prefix.count ||
                    sopClassUID.dropFirst(prefix.count).first == ".")
            }
    }
}
