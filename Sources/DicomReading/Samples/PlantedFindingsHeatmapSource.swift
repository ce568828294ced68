public import LightboxCore
import Foundation

/// Overlays for the bundled samples drawn from their ground truth (`ground-truth.json`): the
/// planted lesions as soft discs. Labelled as ground truth, never as an AI output; it stands in
/// for the model's heatmap until the inference engine exists, and keeps the overlay testable.
public struct PlantedFindingsHeatmapSource: HeatmapSource {
    public let label = "planted findings (phantom ground truth), not an AI output"
    private let lesionsByStudy: [String: [PlantedLesion]]

    /// Reads `folder/ground-truth.json`; nil when the folder has none.
    public init?(folder: String) {
        let path = folder + "/ground-truth.json"
        guard let data = FileManager.default.contents(atPath: path),
              let studies = try? JSONDecoder().decode([SampleGenerator.WrittenStudy].self, from: data) else { return nil }
        var byStudy: [String: [PlantedLesion]] = [:]
        for study in studies where !study.lesions.isEmpty { byStudy[study.studyInstanceUID] = study.lesions }
        lesionsByStudy = byStudy
    }

    public func heatmap(for header: ImageHeader, frame: Int) -> Heatmap? {
        guard let lesions = lesionsByStudy[header.studyInstanceUID], header.rows > 0, header.columns > 0 else { return nil }
        let spacing = header.pixelSpacing ?? [1, 1]
        let z = header.imagePositionPatient?[2]
        // A coarse grid is enough: the overlay is resampled to the picture.
        let step = max(1, max(header.columns, header.rows) / 128)
        let width = (header.columns + step - 1) / step, height = (header.rows + step - 1) / step
        var values = [Float](repeating: 0, count: width * height)
        var any = false
        for lesion in lesions {
            let dz = (lesion.positionZ != nil && z != nil) ? abs(z! - lesion.positionZ!) : 0
            guard dz < lesion.radiusMillimetres else { continue }
            let radius = (lesion.radiusMillimetres * lesion.radiusMillimetres - dz * dz).squareRoot() * 1.3
            for gy in 0..<height {
                for gx in 0..<width {
                    let dx = (Double(gx * step) + Double(step) / 2 - lesion.centerX) * spacing[1]
                    let dy = (Double(gy * step) + Double(step) / 2 - lesion.centerY) * spacing[0]
                    let d2 = (dx * dx + dy * dy) / (radius * radius)
                    guard d2 < 1 else { continue }
                    let value = Float(1 - d2)
                    if value > values[gy * width + gx] { values[gy * width + gx] = value }
                    any = true
                }
            }
        }
        return any ? Heatmap(width: width, height: height, values: values) : nil
    }
}
