/// Named window presets. CT presets are fixed Hounsfield windows; the others come from the image.
public enum WindowPreset: String, CaseIterable, Sendable {
    case lung, mediastinum, bone, brain, abdomen, liver

    /// The preset's window in Hounsfield units.
    public var window: Window {
        switch self {
        case .lung: Window(center: -600, width: 1500)
        case .mediastinum: Window(center: 50, width: 350)
        case .bone: Window(center: 400, width: 1800)
        case .brain: Window(center: 40, width: 80)
        case .abdomen: Window(center: 40, width: 400)
        case .liver: Window(center: 60, width: 160)
        }
    }

    /// Presets offered for a modality, in key order (1–6); empty where fixed presets make no sense.
    public static func presets(for modality: String) -> [WindowPreset] {
        modality == "CT" ? allCases : []
    }

    /// The window to start with: the file's stored window, else for CT the mediastinum preset,
    /// else robust percentiles (0.5th to 99.5th) of the values; colour images pass through 0–255.
    public static func initialWindow(for image: DecodedImage, frame: Int = 0) -> Window {
        if image.channels == 3 { return Window(center: 127.5, width: 256) }
        // Values are modality values for MONOCHROME1 too, so a stored window applies as it is.
        if let stored = image.header.storedWindow { return stored }
        if image.header.modality == "CT" { return WindowPreset.mediastinum.window }
        return PercentileWindow.window(for: image.frame(frame))
    }
}

/// A window from robust percentiles of the values, for images without a usable stored window.
public enum PercentileWindow {
    /// The 0.5th to 99.5th percentile range of (at most 65,536 sampled) values.
    public static func window<C: Collection>(for values: C, lower: Double = 0.005, upper: Double = 0.995) -> Window
    where C.Element == Float, C.Index == Int {
        guard !values.isEmpty else { return Window(center: 0.5, width: 1) }
        let stride = max(1, values.count / 65_536)
        var sample: [Float] = []
        sample.reserveCapacity(values.count / stride + 1)
        var index = values.startIndex
        while index < values.endIndex {
            let value = values[index]
            if value.isFinite { sample.append(value) }
            index += stride
        }
        guard !sample.isEmpty else { return Window(center: 0.5, width: 1) }
        sample.sort()
        let lo = Double(sample[Int(Double(sample.count - 1) * lower)])
        let hi = Double(sample[Int(Double(sample.count - 1) * upper)])
        return Window(center: (lo + hi) / 2, width: max(hi - lo, 1))
    }
}
