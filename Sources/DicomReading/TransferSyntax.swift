/// Transfer syntaxes Lightbox writes and names.
public enum TransferSyntax: String, CaseIterable, Sendable {
    case implicitLittleEndian = "1.2.840.10008.1.2"
    case explicitLittleEndian = "1.2.840.10008.1.2.1"
    case deflatedExplicitLittleEndian = "1.2.840.10008.1.2.1.99"
    case explicitBigEndian = "1.2.840.10008.1.2.2"
    case rleLossless = "1.2.840.10008.1.2.5"
    case jpegLosslessSV1 = "1.2.840.10008.1.2.4.70"
    case jpegLSLossless = "1.2.840.10008.1.2.4.80"
    case jpegLSNearLossless = "1.2.840.10008.1.2.4.81"
    case jpegBaseline = "1.2.840.10008.1.2.4.50"
    case jpegExtended = "1.2.840.10008.1.2.4.51"
    case jpeg2000Lossless = "1.2.840.10008.1.2.4.90"
    case jpeg2000 = "1.2.840.10008.1.2.4.91"

    /// True when encoding loses information.
    public var isLossy: Bool {
        switch self {
        case .jpegBaseline, .jpegExtended, .jpegLSNearLossless, .jpeg2000: true
        default: false
        }
    }
}
