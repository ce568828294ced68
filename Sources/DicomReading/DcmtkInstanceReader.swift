public import LightboxCore

/// Reads headers through DCMTK for the folder index: images get their header, objects that never
/// carry pixels are skipped, anything else (an image class without its pixel data too) becomes a
/// failure naming the file and the reason.
public struct DcmtkInstanceReader: InstanceReader {
    /// A reader.
    public init() {}

    /// The outcome for one file; geometry is checked here too, so broken images show up in the index.
    public func read(path: String) -> FileOutcome {
        do {
            let file = try DicomFile.open(path)
            let header = file.header()
            // Another system's AI result is not an image: kept by its study (reports too, below).
            if StorageClass.isAIResult(header.sopClassUID) {
                let reason = "an AI result (\(header.sopClassUID == StorageClass.segmentation ? "SEG" : "parametric map"))"
                return header.studyInstanceUID.isEmpty ? .skipped(reason: reason) : .object(studyInstanceUID: header.studyInstanceUID, reason: reason)
            }
            if header.sopClassUID.hasPrefix(StorageClass.reportPrefix), !header.studyInstanceUID.isEmpty {
                return .object(studyInstanceUID: header.studyInstanceUID, reason: "no pixel data (\(header.sopClassUID))")
            }
            let info = try file.pixelInfo()
            _ = try PixelGeometry.validated(header: header, pixels: info, path: path)
            return .image(header)
        } catch {
            if case .noPixelData(let sopClass) = error.reason {
                // A CT or MR image without its pixels is broken; a report never had any.
                guard StorageClass.neverCarriesPixels(sopClass) else {
                    return .failed(reason: error.reason.key, message: error.description)
                }
                return .skipped(reason: sopClass.isEmpty ? "no pixel data" : "no pixel data (\(sopClass))")
            }
            // A README or JSON beside the images is not a broken image; a .dcm that is not DICOM is.
            if case .notDicom = error.reason, !Self.looksLikeDicomName(path) {
                return .skipped(reason: "not a DICOM file")
            }
            return .failed(reason: error.reason.key, message: error.description)
        }
    }

    /// True for names DICOM files usually have: .dcm/.dicom/.ima, no extension, or a number.
    static func looksLikeDicomName(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return true }
        let suffix = name[name.index(after: dot)...].lowercased()
        return ["dcm", "dicom", "ima", "dic"].contains(suffix) || suffix.allSatisfy(\.isNumber)
    }
}
