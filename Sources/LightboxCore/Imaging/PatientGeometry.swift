/// Positions in the patient from the image plane (PS3.3 C.7.6.2.1.1): the Image Position
/// (Patient) of the first pixel's centre, the row and column direction cosines and the spacing.
public enum PixelGeometryMath {
    /// The patient coordinates (mm) of pixel (x: column, y: row), nil without position,
    /// orientation and spacing.
    public static func patientPosition(_ header: ImageHeader, x: Double, y: Double) -> [Double]? {
        guard let position = header.imagePositionPatient, position.count == 3,
              let orientation = header.imageOrientationPatient, orientation.count == 6,
              let spacing = header.pixelSpacing, spacing.count == 2 else { return nil }
        // Spacing is (between rows, between columns): x steps along the row direction by the column spacing.
        return (0..<3).map { position[$0] + orientation[$0] * spacing[1] * x + orientation[$0 + 3] * spacing[0] * y }
    }

    /// The distance in mm between two pixels of one image, nil without PixelSpacing.
    public static func inPlaneDistance(_ header: ImageHeader, from a: (x: Int, y: Int), to b: (x: Int, y: Int)) -> Double? {
        guard let spacing = header.pixelSpacing, spacing.count == 2, spacing[0] > 0, spacing[1] > 0 else { return nil }
        let dx = Double(b.x - a.x) * spacing[1], dy = Double(b.y - a.y) * spacing[0]
        return (dx * dx + dy * dy).squareRoot()
    }
}
