import Crypto
import Foundation
public import LightboxCore

extension StudyResult {
    /// SHA-256 (hex) of the result's canonical JSON: the AI output a decision was made on. The
    /// reviewer and `lightbox decide` both record this one.
    public var outputHash: String {
        SHA256.hash(data: Data(canonicalJSON.utf8)).hexadecimal
    }
}
