import Foundation
import LightboxCore

/// Why a DICOM file could not be used; always carries the file it is about.
public struct DicomError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure, each with its detail.
    public enum Reason: Sendable, Equatable {
        /// The file cannot be opened or read.
        case unreadable(String)
        /// The content is not DICOM.
        case notDicom(String)
        /// The data set is malformed or truncated.
        case malformed(String)
        /// The object holds no pixel data: skipped for SR, KOS, RT plan, DICOMDIR…; an error for
        /// an image class (`StorageClass.neverCarriesPixels`).
        case noPixelData(sopClassUID: String)
        /// No decoder for the transfer syntax here.
        case unsupportedTransferSyntax(uid: String, name: String)
        /// A pixel format Lightbox does not handle (bit depth, photometric interpretation).
        case unsupportedPixelFormat(String)
        /// Header geometry disagrees with itself or with the pixel data.
        case geometry(String)
        /// A required attribute is missing.
        case missingAttribute(String)
        /// Decoding the pixel data failed.
        case decodeFailed(String)
        /// Writing a file failed.
        case writeFailed(String)

        /// A short stable key for counting errors by reason.
        public var key: String {
            switch self {
            case .unreadable: "unreadable"
            case .notDicom: "not DICOM"
            case .malformed: "malformed"
            case .noPixelData: "no pixel data"
            case .unsupportedTransferSyntax: "unsupported transfer syntax"
            case .unsupportedPixelFormat: "unsupported pixel format"
            case .geometry: "geometry mismatch"
            case .missingAttribute: "missing attribute"
            case .decodeFailed: "decode failed"
            case .writeFailed: "write failed"
            }
        }

        /// The reason in words.
        public var text: String {
            switch self {
            case .unreadable(let detail): "cannot read the file: \(detail)"
            case .notDicom(let detail): "not a DICOM file: \(detail)"
            case .malformed(let detail): "malformed DICOM: \(detail)"
            case .noPixelData(let sopClass) where StorageClass.neverCarriesPixels(sopClass):
                "no pixel data (SOP class \(sopClass.isEmpty ? "unknown" : sopClass))"
            case .noPixelData(let sopClass): "no pixel data, though SOP class \(sopClass) is an image"
            case .unsupportedTransferSyntax(let uid, let name):
                "unsupported transfer syntax \(name) (\(uid)): no decoder for it in this build"
            case .unsupportedPixelFormat(let detail): "unsupported pixel format: \(detail)"
            case .geometry(let detail): "geometry does not match the pixel data: \(detail)"
            case .missingAttribute(let name): "missing required attribute \(name)"
            case .decodeFailed(let detail): "pixel data could not be decoded: \(detail)"
            case .writeFailed(let detail): "cannot write: \(detail)"
            }
        }
    }

    /// The file the error is about.
    public let path: String
    /// What went wrong.
    public let reason: Reason

    /// An error about `path`.
    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    /// "FILE: reason", the form printed on stderr.
    public var description: String { "\(path): \(reason.text)" }
}
